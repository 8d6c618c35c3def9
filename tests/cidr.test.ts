import { formatCidr, formatIp, gatewayOf, overlaps, parseCidr, size, subnetAt, subnetCount } from "../model/cidr";

describe("IPv4 CIDR arithmetic", () => {
  it("parses a network and formats it back", () => {
    for (const text of ["10.231.0.0/16", "0.0.0.0/0", "192.168.1.7/32", "255.255.255.0/24", "172.16.0.0/12"])
      expect(formatCidr(parseCidr(text))).toBe(text);
    expect(parseCidr("10.0.0.0/8")).toEqual({ base: 10 * 2 ** 24, prefix: 8 });
  });

  it.each([
    "10.0.0.0",
    "10.0.0/8",
    "10.0.0.256/24",
    "10.0.0.0/33",
    "a.b.c.d/8",
    " 10.0.0.0/8",
    "10.0.0.0/8 ",
    "10.0.0.0/240",
  ])("rejects %j as not an IPv4 CIDR", (text) => {
    expect(() => parseCidr(text)).toThrow(`"${text}" is not an IPv4 CIDR`);
  });

  it("rejects host bits, naming the network", () => {
    expect(() => parseCidr("10.231.5.0/16")).toThrow('"10.231.5.0/16" has host bits set; the network is 10.231.0.0/16');
    expect(() => parseCidr("0.0.0.1/0")).toThrow("the network is 0.0.0.0/0");
  });

  it("tells overlapping ranges from adjacent ones", () => {
    const a = parseCidr("10.0.0.0/24");
    expect(overlaps(a, parseCidr("10.0.0.128/25"))).toBe(true);
    expect(overlaps(parseCidr("10.0.0.128/25"), a)).toBe(true);
    expect(overlaps(a, parseCidr("10.0.1.0/24"))).toBe(false);
    expect(overlaps(parseCidr("10.0.1.0/24"), a)).toBe(false);
    expect(overlaps(parseCidr("0.0.0.0/0"), a)).toBe(true);
  });

  it("carves a pool into subnets and names their gateways", () => {
    const pool = parseCidr("10.231.0.0/16");
    expect(size(pool)).toBe(65536);
    expect(subnetCount(pool, 24)).toBe(256);
    expect(subnetCount(pool, 16)).toBe(1);
    expect(subnetCount(pool, 15)).toBe(0);
    expect(formatCidr(subnetAt(pool, 24, 0))).toBe("10.231.0.0/24");
    expect(formatCidr(subnetAt(pool, 24, 255))).toBe("10.231.255.0/24");
    expect(formatCidr(subnetAt(pool, 26, 5))).toBe("10.231.1.64/26");
    expect(gatewayOf(subnetAt(pool, 24, 7))).toBe("10.231.7.1");
    expect(formatIp(0xffffffff)).toBe("255.255.255.255");
    expect(formatCidr(subnetAt(parseCidr("255.255.255.0/24"), 25, 1))).toBe("255.255.255.128/25");
  });
});
