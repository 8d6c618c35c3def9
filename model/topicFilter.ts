/**
 * MQTT topic filters as the MQTT specification (v3.1.1 section 4.7, v5 section 4.7) defines them; Mosquitto
 * refuses an ACL line that breaks these rules, or worse, matches something else than meant.
 */

/** The longest topic filter MQTT carries: a UTF-8 string of at most 65535 bytes. */
const MAX_FILTER_BYTES = 65535;

/** Why a topic filter is not valid MQTT, or undefined when it is. */
export function topicFilterProblem(filter: string): string | undefined {
  if (filter.length === 0) return "must not be empty";
  if (filter.includes("\u0000")) return "must not contain the NUL character";
  // One ACL line per entry in the broker's file: a line break would start a rule of its own.
  if (/[\r\n]/.test(filter)) return "must not contain a line break";
  if (Buffer.byteLength(filter, "utf8") > MAX_FILTER_BYTES) return `must be at most ${MAX_FILTER_BYTES} bytes`;
  const levels = filter.split("/");
  for (const [i, level] of levels.entries()) {
    if (level.includes("#") && (level !== "#" || i !== levels.length - 1)) {
      return `"#" must be the last level and alone in it (e.g. "devices/#"), but "${filter}" was provided`;
    }
    if (level.includes("+") && level !== "+") {
      return `"+" must be alone in its level (e.g. "devices/+/state"), but "${filter}" was provided`;
    }
  }
  return undefined;
}
