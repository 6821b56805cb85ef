/// An error answer of the simulated cloud: HTTP status, error code, message and the body shape the service uses.
///
/// The three shapes are the real ones: BSS, VPCEP, SecMaster and the API gateway answer
/// `{"error_code": …, "error_msg": …}`; ECS answers `{"error": {"code": …, "message": …}}`.
public struct CloudError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Shape: String, Sendable, Equatable, Codable {
        case flat
        case nested
    }

    public var status: Int
    public var code: String
    public var message: String
    public var shape: Shape
    /// The request asked for something already done: recorded in the ledger as a repeat, not a rejection.
    public var isRepeat: Bool
    /// Per-resource findings for the ledger (nothing changed, but what was found is worth recording).
    public var effects: [LedgerEffect]

    public init(status: Int, code: String, message: String, shape: Shape = .flat, isRepeat: Bool = false, effects: [LedgerEffect] = []) {
        self.status = status
        self.code = code
        self.message = message
        self.shape = shape
        self.isRepeat = isRepeat
        self.effects = effects
    }

    public var body: JSON {
        switch shape {
        case .flat: ["error_code": .string(code), "error_msg": .string(message)]
        case .nested: ["error": ["code": .string(code), "message": .string(message)]]
        }
    }

    public var description: String { "\(status) \(code): \(message)" }

    // MARK: API gateway (answers before any service sees the request)

    public static func authentication(_ detail: String) -> CloudError {
        CloudError(status: 401, code: "APIGW.0301", message: "Incorrect IAM authentication information: \(detail)")
    }

    public static func permissionDenied(_ detail: String) -> CloudError {
        CloudError(status: 403, code: "APIGW.0302", message: "The IAM user is not authorized to access the API: \(detail)")
    }

    public static func apiNotFound(method: String, path: String) -> CloudError {
        CloudError(status: 404, code: "APIGW.0101", message: "The API does not exist or has not been published in the environment: \(method) \(path)")
    }

    public static func throttled(limit: Int) -> CloudError {
        CloudError(status: 429, code: "APIGW.0308", message: "The throttling threshold has been reached: policy user over ratelimit,limit:\(limit),time:1 minute")
    }

    public static func badRequest(_ detail: String) -> CloudError {
        CloudError(status: 400, code: "APIGW.0201", message: "Request error: \(detail)")
    }
}
