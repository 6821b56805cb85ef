import Foundation

/// The whole simulated cloud as a value: accounts with their resources, settings and the random generator.
///
/// All domain rules are mutating methods on this struct taking `now` explicitly, so they are pure functions of
/// (state, request, time) and are unit-tested without HTTP or real time. Time-driven transitions (orders
/// completing, jobs finishing, endpoints disappearing) are applied lazily by `advance(to:)` before each use.
public struct CloudState: Sendable {
    public var settings: SimulatorSettings
    public var accounts: [Account]
    public var rng: SplitMix64

    public init(settings: SimulatorSettings, accounts: [Account]) {
        self.settings = settings
        self.accounts = accounts
        self.rng = SplitMix64(seed: settings.randomSeed)
    }

    public func accountIndex(accessKey: String) -> Int? { accounts.firstIndex { $0.accessKey == accessKey } }
    public func accountIndex(token: String) -> Int? { accounts.firstIndex { $0.authToken != nil && $0.authToken == token } }
    public func accountIndex(domainID: String) -> Int? { accounts.firstIndex { $0.domainID == domainID } }

    /// Outcome of a successful mutating operation, for the response and the ledger.
    public struct Mutation: Sendable, Equatable {
        public var effects: [LedgerEffect] = []
        public var money = LedgerMoney()
        public var references: [String] = []
        public var partialFailures: [(resourceID: String, error: CloudError)] = []

        public init() {}

        public static func == (lhs: Mutation, rhs: Mutation) -> Bool {
            lhs.effects == rhs.effects && lhs.money == rhs.money && lhs.references == rhs.references
                && lhs.partialFailures.map(\.resourceID) == rhs.partialFailures.map(\.resourceID)
        }
    }

    // MARK: Identifiers

    /// BSS-style order id, e.g. `CS2611291230K7QZP`.
    mutating func newOrderID(at now: Date) -> String {
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        let stamp = ISOTime.format(now).filter(\.isNumber).dropFirst(2).prefix(10)
        return "CS" + stamp + String((0..<5).map { _ in letters[Int(rng.next() % UInt64(letters.count))] })
    }

    mutating func newUUID() -> String { rng.uuid() }

    mutating func newHexID() -> String { rng.hexID(32) }
}
