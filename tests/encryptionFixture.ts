/** A passing encryption probe result, as the e2e cluster run reports it, for the tests of its verdicts. */
import { Delivery, EncryptionReport } from "../e2e/cluster/encryptionReport";

/** Nothing crossed the nodes: what an encrypted overlay does on a kernel without IPsec AEAD. */
export const nothingDelivered: Delivery = {
  udp: { sent: 30, echoed: false, seconds: 15 },
  tcp: { attempts: 6, connected: false, echoed: false, error: "timeout", seconds: 15 },
  received: [],
};

export const echoedDelivery: Delivery = {
  udp: { sent: 1, echoed: true, seconds: 0.01 },
  tcp: { attempts: 1, connected: true, echoed: true, error: null, seconds: 0.01 },
  received: ["udp", "tcp"],
};

/** The encrypted network fails closed, its control network was seen in the capture, no plaintext. */
export function passingEncryption(over: Partial<EncryptionReport> = {}): EncryptionReport {
  return {
    plaintextSeen: 0,
    crossNode: "fails-closed",
    controlPlaintextSeen: 4,
    network: { name: "iot-encryption-probe-network", options: { encrypted: "true" }, subnet: "s", vxlanId: 1 },
    control: { name: "iot-encryption-control-network", options: {}, subnet: "t", vxlanId: 2 },
    sender: "iot-cluster-node5",
    receiver: "iot-cluster-node4",
    delivered: { encrypted: nothingDelivered, control: echoedDelivery },
    capture: {
      frames: 300,
      vxlanFrames: { encrypted: 0, control: 4 },
      espFrames: 0,
      bridge: "iot-cluster-br",
      seconds: 20,
      truncated: false,
      file: ".e2e/cluster-encryption.pcap",
    },
    evidence: [],
    cleanup: { removed: [], errors: [] },
    ...over,
  };
}
