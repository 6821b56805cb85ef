/// An ECS asynchronous job (`ShowJob`), e.g. the deletion of a batch of servers.
public struct ECSJob: Sendable, Codable, Equatable {
    public var jobID: String
    public var jobType: String?
    public var status: Status
    public var subJobs: [SubJob]
    public var errorCode: String?
    public var failReason: String?

    public init(jobID: String, jobType: String? = nil, status: Status, subJobs: [SubJob], errorCode: String? = nil, failReason: String? = nil) {
        self.jobID = jobID
        self.jobType = jobType
        self.status = status
        self.subJobs = subJobs
        self.errorCode = errorCode
        self.failReason = failReason
    }

    public struct SubJob: Sendable, Codable, Equatable {
        public var jobID: String?
        public var serverID: String?
        public var status: Status
        public var errorCode: String?
        public var failReason: String?

        public init(jobID: String? = nil, serverID: String?, status: Status, errorCode: String? = nil, failReason: String? = nil) {
            self.jobID = jobID
            self.serverID = serverID
            self.status = status
            self.errorCode = errorCode
            self.failReason = failReason
        }
    }

    /// Job status. A value the client does not know is kept as `.other` rather than failing the decode: a new
    /// intermediate state must not crash a teardown; callers treat `.other` as still in progress.
    public enum Status: Sendable, Equatable, Hashable, Codable {
        case initializing
        case running
        case success
        case fail
        case pendingPayment
        case other(String)

        public init(rawValue: String) {
            switch rawValue.uppercased() {
            case "INIT": self = .initializing
            case "RUNNING": self = .running
            case "SUCCESS": self = .success
            case "FAIL": self = .fail
            case "PENDING_PAYMENT": self = .pendingPayment
            default: self = .other(rawValue)
            }
        }

        public var rawValue: String {
            switch self {
            case .initializing: "INIT"
            case .running: "RUNNING"
            case .success: "SUCCESS"
            case .fail: "FAIL"
            case .pendingPayment: "PENDING_PAYMENT"
            case .other(let text): text
            }
        }

        public var isFinished: Bool { self == .success || self == .fail }

        public init(from decoder: any Decoder) throws {
            self.init(rawValue: try decoder.singleValueContainer().decode(String.self))
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(rawValue)
        }
    }
}
