/// Billing mode of a resource: yearly/monthly (`prepaid`, unsubscribed through BSS) or pay-per-use (`postpaid`,
/// deleted in its own service). Values the client does not know are kept, never rejected.
public enum ChargingMode: Sendable, Equatable, Hashable, Codable {
    case prepaid
    case postpaid
    case other(String)

    /// SecMaster spells it `PREPAID` / `POSTPAID` (case-insensitive per the docs).
    init(secmaster text: String) {
        switch text.uppercased() {
        case "PREPAID": self = .prepaid
        case "POSTPAID": self = .postpaid
        default: self = .other(text)
        }
    }

    /// ECS server metadata `charging_mode`: `"0"` pay-per-use, `"1"` yearly/monthly (`"2"` spot is kept as other).
    init(ecsMetadata text: String) {
        switch text {
        case "0": self = .postpaid
        case "1": self = .prepaid
        default: self = .other(text)
        }
    }

    public var rawValue: String {
        switch self {
        case .prepaid: "PREPAID"
        case .postpaid: "POSTPAID"
        case .other(let text): text
        }
    }

    public init(from decoder: any Decoder) throws {
        self.init(secmaster: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
