/// Answer of BSS `CancelResourcesSubscription`: the unsubscription order(s) created and per-resource failures
/// (documented as "reserved": present only when some resource failed while others succeeded).
public struct UnsubscribeResult: Sendable, Codable, Equatable {
    public var orderIDs: [String]
    public var failures: [ResourceFailure]

    public init(orderIDs: [String], failures: [ResourceFailure] = []) {
        self.orderIDs = orderIDs
        self.failures = failures
    }

    public struct ResourceFailure: Sendable, Codable, Equatable {
        public var resourceID: String
        public var errorCode: String?
        public var errorMessage: String?

        public init(resourceID: String, errorCode: String?, errorMessage: String?) {
            self.resourceID = resourceID
            self.errorCode = errorCode
            self.errorMessage = errorMessage
        }
    }
}
