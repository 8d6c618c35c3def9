/**
 * Values in the form the docker provider reads them back. After a create or update the provider stores what
 * its Read writes (terraform-provider-docker internal/provider/resource_docker_service_structures.go), and
 * the next `pulumi up` compares the program's inputs with that: a value written in another form shows as a
 * change on every run.
 */

/**
 * A duration as Go's `time.Duration.String()` writes it, with a trailing zero unit trimmed as the
 * provider's `shortDur` does: 5 -> "5s", 60 -> "1m", 90 -> "1m30s", 120 -> "2m", 3600 -> "1h", 0.5 -> "500ms".
 */
export function goDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0)
    throw new Error(`a duration must be a non-negative number of seconds, got ${seconds}`);
  const nanos = Math.round(seconds * 1e9);
  if (nanos === 0) return "0s";
  if (nanos < 1e9) {
    for (const [unit, size] of [
      ["ms", 1e6],
      ["µs", 1e3],
    ] as const) {
      if (nanos >= size) return `${trimFraction(nanos / size)}${unit}`;
    }
    return `${nanos}ns`;
  }
  const hours = Math.floor(nanos / 3600e9);
  const minutes = Math.floor((nanos % 3600e9) / 60e9);
  const rest = (nanos % 60e9) / 1e9;
  let text = `${trimFraction(rest)}s`;
  if (hours > 0 || minutes > 0) text = `${minutes}m${text}`;
  if (hours > 0) text = `${hours}h${text}`;
  // shortDur: "2m0s" -> "2m", "1h0m" (after the first trim) -> "1h".
  if (text.endsWith("m0s")) text = text.slice(0, -2);
  if (text.endsWith("h0m")) text = text.slice(0, -2);
  return text;
}

function trimFraction(value: number): string {
  return Number(value.toFixed(9)).toString();
}

/** A failure ratio as the provider reads it back: one decimal (`strconv.FormatFloat(r, 'f', 1, 64)`). */
export function failureRatio(ratio: number): string {
  if (!(ratio >= 0 && ratio <= 1)) throw new Error(`a failure ratio must be between 0 and 1, got ${ratio}`);
  const text = ratio.toFixed(1);
  if (Number(text) !== ratio) {
    throw new Error(`the provider keeps one decimal of a failure ratio, so ${ratio} would read back as another value`);
  }
  return text;
}
