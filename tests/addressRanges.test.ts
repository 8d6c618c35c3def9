/** Which subnets may carry overlays: inside one private range, and the message naming what else they hit. */
import { nonPrivateProblem, PRIVATE_RANGES, within } from "../model/addressRanges";
import { parseCidr } from "../model/cidr";

const problem = (cidr: string) => nonPrivateProblem(parseCidr(cidr));
const MUST_LIE_IN = "overlay subnets must lie in 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10";

describe("private address ranges for overlay subnets", () => {
  it.each(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"])("accepts all of %s", (range) => {
    expect(PRIVATE_RANGES).toContain(range);
    expect(problem(range)).toBeUndefined();
  });

  it.each(["10.0.0.0/16", "10.255.255.0/24", "172.31.255.0/24", "192.168.255.252/30", "100.127.0.0/16"])(
    "accepts %s, which touches an edge of a private range from inside",
    (cidr) => expect(problem(cidr)).toBeUndefined(),
  );

  it("tells containment from overlap at both ends", () => {
    const ten = parseCidr("10.0.0.0/8");
    expect(within(parseCidr("10.0.0.0/16"), ten)).toBe(true);
    expect(within(parseCidr("10.255.0.0/16"), ten)).toBe(true);
    expect(within(parseCidr("10.0.0.0/7"), ten)).toBe(false); // starts inside, ends past it
    expect(within(parseCidr("9.255.0.0/16"), ten)).toBe(false);
    expect(within(parseCidr("11.0.0.0/16"), ten)).toBe(false);
    expect(within(ten, parseCidr("10.0.0.0/16"))).toBe(false);
  });

  it.each([
    ["0.0.0.0/24", 'overlaps the "this network" range 0.0.0.0/8'],
    ["127.0.0.0/24", "overlaps the loopback range 127.0.0.0/8"],
    ["127.255.255.0/24", "overlaps the loopback range 127.0.0.0/8"],
    ["169.254.1.0/24", "overlaps the link-local range 169.254.0.0/16"],
    ["224.1.0.0/16", "overlaps the multicast range 224.0.0.0/4"],
    ["250.0.0.0/16", "overlaps the reserved and broadcast range 240.0.0.0/4"],
    ["96.0.0.0/3", "overlaps the loopback range 127.0.0.0/8"], // holds the special range rather than sits in it
  ])("rejects %s, naming the special range it %s", (cidr, what) => {
    expect(problem(cidr)).toBe(`${cidr} ${what}; ${MUST_LIE_IN}`);
  });

  it.each(["8.8.8.0/24", "126.255.255.0/24", "128.0.0.0/16", "10.0.0.0/7", "172.32.0.0/16", "100.128.0.0/16"])(
    "rejects %s as outside every private range without naming a special one",
    (cidr) => {
      expect(problem(cidr)).toBe(`${cidr} is not inside one private range; ${MUST_LIE_IN}`);
    },
  );
});
