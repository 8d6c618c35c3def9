import { UNKNOWN_STRING_SENTINEL } from "../../policies/lib/values";
import { secretEnvReason } from "../../policies/lib/secretEnv";
import { disallowCredentialsInConfigs, disallowSecretsInCommands, disallowSecretsInEnv } from "../../policies/secrets";
import { asSecret, container, edit, HAPROXY_CFG, MOSQUITTO_CONF, service, serviceConfig } from "./fixtures";
import { assertHasViolation, assertNoViolations, runResourcePolicy } from "./helpers";

const app = () => service("app", { networks: ["backend-id"] });
const legacy = () => container("legacy", "backend");
const KEY_PEM = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg\n-----END EC PRIVATE KEY-----\n";
// Made up for the tests, in the shape of each issuer's tokens.
const GITHUB_TOKEN = "ghp_Zq8rT2vWx4Yb6Nc1Md3Pf5Hg7Jk9Ls0Qa2Ew";
const RANDOM_TOKEN = "kP3xR8vQ2mZ7tW1yB6nL4cF9hJ0sD5gXaE2uV7iO";

const withEnv = (name: string, value: unknown) => edit(app(), (p) => (p.taskSpec.containerSpec.env[name] = value));

describe("disallow-secrets-in-env", () => {
  it("passes for file references and plain settings", async () => {
    const r = edit(app(), (p) =>
      Object.assign(p.taskSpec.containerSpec.env, {
        GF_SECURITY_ADMIN_PASSWORD__FILE: "/run/secrets/grafana-admin-password",
        MQTT_KEY_FILE: "/run/secrets/node-red-mqtt-client.key",
        MQTT_KEY: "/run/secrets/mqtt-exporter-mqtt-client.key",
        DOCKER_INFLUXDB_INIT_ADMIN_TOKEN_FILE: "/run/secrets/influxdb-admin-token",
        KEYCLOAK_URL: "https://sso.example.com",
        GIT_COMMIT: "0123456789abcdef0123456789abcdef01234567",
        REQUEST_ID_HEADER: "X-Request-Id",
      }),
    );
    assertNoViolations(await runResourcePolicy(disallowSecretsInEnv, r));
  });

  it("fails for an inline password", async () => {
    assertHasViolation(
      await runResourcePolicy(disallowSecretsInEnv, withEnv("DB_PASSWORD", "hunter2")),
      'service "app" sets DB_PASSWORD inline (its name contains PASSWORD)',
    );
  });

  it("fails for an API key in a container's envs", async () => {
    const r = edit(legacy(), (p) => p.envs.push("API_KEY=abc123"));
    assertHasViolation(await runResourcePolicy(disallowSecretsInEnv, r), "sets API_KEY inline (its name contains KEY)");
  });

  it("fails for a URL carrying a password, whatever the name", async () => {
    assertHasViolation(
      await runResourcePolicy(disallowSecretsInEnv, withEnv("INFLUX_URL", "http://admin:secret@influxdb:8086")),
      "sets INFLUX_URL inline (its value is a URL with a password)",
    );
  });

  it("fails for a private key, whatever the name", async () => {
    assertHasViolation(
      await runResourcePolicy(disallowSecretsInEnv, withEnv("TLS_MATERIAL", KEY_PEM)),
      "sets TLS_MATERIAL inline (its value is a private key)",
    );
  });

  it("fails for a token recognised by its format", async () => {
    assertHasViolation(
      await runResourcePolicy(disallowSecretsInEnv, withEnv("GH", GITHUB_TOKEN)),
      "sets GH inline (its value looks like a GitHub token)",
    );
  });

  it("fails for a random token under an innocent name", async () => {
    assertHasViolation(
      await runResourcePolicy(disallowSecretsInEnv, withEnv("SESSION", RANDOM_TOKEN)),
      "sets SESSION inline (its value looks like a random token)",
    );
  });

  it("never puts the value in the message", async () => {
    const messages = await runResourcePolicy(disallowSecretsInEnv, withEnv("DB_PASSWORD", "hunter2"));
    expect(messages.join("\n")).not.toContain("hunter2");
  });

  it.each(["ciphertext", "plaintext"] as const)(
    "fails when a value is a Pulumi secret (%s in the export), whatever its name",
    async (form) => {
      assertHasViolation(
        await runResourcePolicy(disallowSecretsInEnv, withEnv("GREETING", asSecret("hello", form))),
        'service "app" sets GREETING inline (its value is a Pulumi secret)',
      );
    },
  );

  it("fails when a container's env entry is an encrypted Pulumi secret", async () => {
    const r = edit(legacy(), (p) => p.envs.push(asSecret("DB_PASSWORD=hunter2")));
    assertHasViolation(
      await runResourcePolicy(disallowSecretsInEnv, r),
      'container "legacy" sets envs[1] inline (its value is a Pulumi secret)',
    );
  });

  it("fails when the whole environment is an encrypted Pulumi secret", async () => {
    const r = edit(app(), (p) => (p.taskSpec.containerSpec.env = asSecret({ LOG_LEVEL: "info" })));
    assertHasViolation(
      await runResourcePolicy(disallowSecretsInEnv, r),
      'service "app" takes its whole environment from a Pulumi secret',
    );
  });

  it("passes during a preview when a value is computed: unknown is not secret", async () => {
    assertNoViolations(await runResourcePolicy(disallowSecretsInEnv, withEnv("GREETING", UNKNOWN_STRING_SENTINEL)));
  });

  it("passes for a reviewed exception", async () => {
    assertNoViolations(
      await runResourcePolicy(disallowSecretsInEnv, withEnv("LEGACY_TOKEN", "iot"), { allowedNames: ["LEGACY_TOKEN"] }),
    );
  });

  it("names the service by its iot.service label when its Docker name carries a generation", async () => {
    const r = edit(withEnv("DB_PASSWORD", "hunter2"), (p) => {
      p.name = "app-1a2b3c4d";
      p.labels.push({ label: "iot.service", value: "app" });
    });
    assertHasViolation(
      await runResourcePolicy(disallowSecretsInEnv, r),
      'service "app" (app-1a2b3c4d) sets DB_PASSWORD',
    );
  });
});

describe("secretEnvReason", () => {
  it("reads names token by token", () => {
    expect(secretEnvReason("GRAFANA_SECRET", "x")).toBe("its name contains SECRET");
    expect(secretEnvReason("REDIS_REQUIREPASS", "x")).toBe("its name contains REQUIREPASS");
    expect(secretEnvReason("MONKEY_BUSINESS", "x")).toBeUndefined();
    expect(secretEnvReason("SECRETARY_NAME", "x")).toBeUndefined();
    expect(secretEnvReason("PASSWORDLESS_LOGIN", "x")).toBeUndefined();
  });

  it("finds a password, secret or token word at the end of a longer word", () => {
    expect(secretEnvReason("PGPASSWORD", "x")).toBe("its name contains PGPASSWORD");
    expect(secretEnvReason("CSRFTOKEN", "x")).toBe("its name contains CSRFTOKEN");
  });

  it("lets names that describe a secret rather than hold it pass", () => {
    expect(secretEnvReason("AWS_ACCESS_KEY_ID", "AKIA-ID")).toBeUndefined();
    expect(secretEnvReason("TOKEN_TTL", "3600")).toBeUndefined();
    expect(secretEnvReason("SSH_PUBLIC_KEY", "ssh-ed25519 AAAAC3Nza")).toBeUndefined();
  });

  it("lets references and empty values pass", () => {
    expect(secretEnvReason("REDIS_PASSWORD", "")).toBeUndefined();
    expect(secretEnvReason("REDIS_PASSWORD_FILE", "/run/secrets/redis")).toBeUndefined();
    expect(secretEnvReason("MQTT_KEY", "/etc/iot/client.key")).toBeUndefined();
  });

  it("judges content before names and references", () => {
    expect(secretEnvReason("DB_DSN", "Server=db;User Id=app;Password=x;")).toBe("its value holds a password setting");
    expect(secretEnvReason("KEY_FILE", KEY_PEM)).toBe("its value is a private key");
    expect(secretEnvReason("UPSTREAM", "redis://:pw@redis:6379")).toBe("its value is a URL with a password");
  });

  it("does not take hex ids, UUIDs or host names for random tokens", () => {
    expect(secretEnvReason("DIGEST", "a".repeat(20) + "0123456789abcdef0123456789abcdef")).toBeUndefined();
    expect(secretEnvReason("TRACE", "550e8400-e29b-41d4-a716-446655440000")).toBeUndefined();
    expect(secretEnvReason("ROOT_URL", "https://grafana.energy.example.com/")).toBeUndefined();
  });
});

const withCommand = (commands: unknown[], args?: unknown[]) =>
  edit(app(), (p) => {
    p.taskSpec.containerSpec.commands = commands;
    if (args) p.taskSpec.containerSpec.args = args;
  });

describe("disallow-secrets-in-commands", () => {
  it("passes for commands that read their secrets from files", async () => {
    for (const r of [
      withCommand(["redis-server", "/usr/local/etc/redis/redis.conf"]),
      withCommand(["nats-server", "-c", "/etc/nats/nats.conf"]),
      withCommand(["prometheus", "--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]),
      withCommand(["app", "--password-file", "/run/secrets/db"]),
      withCommand(["sh", "-c", 'exec app --token "$(cat /run/secrets/token)"']),
      withCommand(["mosquitto_sub", "-p", "1883", "-t", "$SYS/#"]),
      withCommand(["mkdir", "-p", "/data"]),
    ])
      assertNoViolations(await runResourcePolicy(disallowSecretsInCommands, r));
  });

  it("fails for --requirepass in commands", async () => {
    assertHasViolation(
      await runResourcePolicy(disallowSecretsInCommands, withCommand(["redis-server", "--requirepass", "hunter2"])),
      'service "app" passes a secret on its command line (argument 3: "--requirepass" takes a secret inline (its name contains REQUIREPASS))',
    );
  });

  it("fails for --password= in args", async () => {
    assertHasViolation(
      await runResourcePolicy(disallowSecretsInCommands, withCommand(["influx"], ["--password=hunter2"])),
      'argument 2: "--password" takes a secret inline (its name contains PASSWORD)',
    );
  });

  it("fails for -p with a password", async () => {
    assertHasViolation(
      await runResourcePolicy(disallowSecretsInCommands, withCommand(["mysql", "-p", "hunter2"])),
      'argument 3: "-p" takes a password inline',
    );
  });

  it("fails for a PASSWORD= assignment", async () => {
    assertHasViolation(
      await runResourcePolicy(disallowSecretsInCommands, withCommand(["env", "ADMIN_PASSWORD=hunter2", "app"])),
      "argument 2: ",
    );
  });

  it("fails for a password inside a shell script", async () => {
    assertHasViolation(
      await runResourcePolicy(
        disallowSecretsInCommands,
        withCommand(["sh", "-c", "redis-server --requirepass hunter2 --port 6379"]),
      ),
      'argument 3: "--requirepass" takes a secret inline',
    );
  });

  it("fails for a private key and for a URL with a password", async () => {
    assertHasViolation(
      await runResourcePolicy(disallowSecretsInCommands, withCommand(["app", "--key-pem", KEY_PEM])),
      "argument 3: it is a private key",
    );
    assertHasViolation(
      await runResourcePolicy(disallowSecretsInCommands, withCommand(["app", "--db=postgres://app:pw@db/app"])),
      "argument 2: it is a URL with a password",
    );
  });

  it("fails for a password in a health check", async () => {
    const r = edit(
      app(),
      (p) => (p.taskSpec.containerSpec.healthcheck.tests = ["CMD", "redis-cli", "--pass", "pw", "ping"]),
    );
    assertHasViolation(
      await runResourcePolicy(disallowSecretsInCommands, r),
      'passes a secret on its health check (argument 4: "--pass" takes a secret inline',
    );
  });

  it("fails for a container's command", async () => {
    const r = edit(legacy(), (p) => (p.command = ["redis-server", "--masterauth", "pw"]));
    assertHasViolation(
      await runResourcePolicy(disallowSecretsInCommands, r),
      'container "legacy" passes a secret on its command line (argument 3',
    );
  });

  it.each(["ciphertext", "plaintext"] as const)(
    "fails when an argument is a Pulumi secret (%s in the export)",
    async (form) => {
      assertHasViolation(
        await runResourcePolicy(disallowSecretsInCommands, withCommand(["app", "--greeting", asSecret("hello", form)])),
        "argument 3: it is a Pulumi secret",
      );
    },
  );

  it("passes during a preview when the argument after an option is computed", async () => {
    assertNoViolations(
      await runResourcePolicy(
        disallowSecretsInCommands,
        withCommand(["app", "--token", UNKNOWN_STRING_SENTINEL, "serve"]),
      ),
    );
  });
});

const config = (text: string) => serviceConfig("app-conf", text);

describe("disallow-credentials-in-configs", () => {
  it("passes for configs that keep their credentials in secrets", async () => {
    for (const text of [
      MOSQUITTO_CONF,
      HAPROXY_CFG,
      "bind 0.0.0.0\nport 6379\ninclude /run/secrets/redis-auth.conf\n",
      "port: 4222\ninclude ./auth.conf\n",
      "datasources:\n  - name: InfluxDB\n    secureJsonData:\n      token: $__file{/run/secrets/grafana-influxdb-token}\n",
      "password_file /mosquitto/config/passwd\n",
      "scrape_configs:\n  - job_name: x\n    basic_auth:\n      password_file: /run/secrets/prom\n",
      '[[outputs.influxdb_v2]]\n  token = "${INFLUX_TOKEN}"\n',
    ])
      assertNoViolations(await runResourcePolicy(disallowCredentialsInConfigs, config(text)));
  });

  it.each([
    ["Redis requirepass", "port 6379\nrequirepass hunter2\n", "line 2: requirepass"],
    ["Redis masterauth", "masterauth hunter2\n", "line 1: masterauth"],
    ["a Redis ACL user with an inline password", "user app on >hunter2 ~* +@all\n", "line 1: user … >password"],
    [
      "an HAProxy userlist",
      "userlist admins\n  user ops insecure-password hunter2\n",
      "line 2: user … insecure-password",
    ],
    ["an HAProxy password hash", "userlist admins\n  user ops password $6$salt$hash\n", "line 2: user … password"],
    ["HAProxy stats auth", "listen stats\n  stats auth admin:hunter2\n", "line 2: stats auth user:password"],
    ["a NATS password", "authorization {\n  user: app\n  password: hunter2\n}\n", "line 3: password"],
    ["a NATS token on one line", "authorization { token: s3cr3t }\n", "line 1: token"],
    ["Grafana admin_password", "[security]\nadmin_password = hunter2\n", "line 2: admin_password"],
    ["an InfluxDB token", '[default]\n  url = "http://influxdb:8086"\n  token = "abc=="\n', "line 3: token"],
    ["a Mosquitto bridge password", "connection upstream\nremote_password hunter2\n", "line 2: remote_password"],
    ["a URL with a password", "url: http://admin:hunter2@influxdb:8086\n", "line 1: a URL with a password"],
  ])("fails for %s", async (_what, text, expected) => {
    const messages = await runResourcePolicy(disallowCredentialsInConfigs, config(text));
    assertHasViolation(messages, `service config "app-conf" sets a credential inline (${expected})`);
    expect(messages.join("\n")).not.toMatch(/hunter2|s3cr3t/);
  });

  it.each(["ciphertext", "plaintext"] as const)(
    "fails when the data is a Pulumi secret (%s in the export)",
    async (form) => {
      const r = edit(config("greeting hello\n"), (p) => (p.data = asSecret(p.data, form)));
      assertHasViolation(
        await runResourcePolicy(disallowCredentialsInConfigs, r),
        'service config "app-conf" is built from a Pulumi secret',
      );
    },
  );
});
