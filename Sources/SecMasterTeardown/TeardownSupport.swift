import Foundation
import Synchronization
import HuaweiCloud
import HuaweiCloudSigning
import Logging
import UnwindCore
import UnwindEngine
import UnwindObservability

/// The validated input every teardown workflow takes.
public struct TeardownInput: Sendable, Equatable {
    public var account: AccountReference
    /// The credentials profile; only this name is stored, never a key.
    public var profile: String
    public var options: TeardownOptions

    /// Reads the workflow input (already validated against the definition's `inputs`).
    public init(_ input: [String: JSONValue]) throws(StepFailure) {
        func text(_ key: String) throws(StepFailure) -> String {
            guard let value = input[key]?.stringValue, !value.isEmpty else {
                throw StepFailure(code: "invalid_input", message: "the workflow input has no '\(key)'", retryable: false)
            }
            return value
        }
        // An absent option takes its default; one present with another type is refused, never read as the default
        // (for the deletions, the destructive choice).
        func option<T>(_ key: String, _ read: (JSONValue) -> T?, default fallback: T) throws(StepFailure) -> T {
            guard let value = input[key], value != .null else { return fallback }
            guard let read = read(value) else {
                throw StepFailure(code: "invalid_input", message: "the workflow input's '\(key)' has the wrong type", retryable: false)
            }
            return read
        }
        account = AccountReference(domainID: try text("domain_id"), projectID: try text("project_id"), region: try text("region"))
        profile = try option("profile", \.stringValue, default: "default")
        options = TeardownOptions(
            deletePublicIP: try option("delete_publicip", \.boolValue, default: true),
            deleteVolume: try option("delete_volume", \.boolValue, default: true),
            unsubscribeReason: try option("unsubscribe_reason", \.stringValue, default: "Decommissioned with Unwind"),
            accepted: Set(try option("accept", \.arrayValue, default: []).compactMap(\.stringValue)))
    }
}

/// How actions reach the cloud and how patiently they wait. Built once per worker process.
public struct TeardownEnvironment: Sendable {
    /// Creates the client for one account from its region and credentials profile; it logs through the given
    /// logger (the step's, so that every cloud call's log line names its workflow, step and attempt).
    public var makeClient: @Sendable (TeardownInput, Logger) throws(CloudError) -> HuaweiCloudClient
    /// How long a durable wait lasts before an order, job or deletion is checked again.
    public var pollInterval: Duration
    /// How many times "gone?" is checked before a resource that should be gone counts as a failure.
    public var maxConfirmPolls: Int
    public var planner: TeardownPlanner
    /// Inventories already decoded by this process; every step of a teardown (and every poll) reads one.
    let inventories = InventoryCache()

    public init(
        makeClient: @escaping @Sendable (TeardownInput, Logger) throws(CloudError) -> HuaweiCloudClient,
        pollInterval: Duration = .seconds(5), maxConfirmPolls: Int = 120, planner: TeardownPlanner = TeardownPlanner()
    ) {
        self.makeClient = makeClient
        self.pollInterval = pollInterval
        self.maxConfirmPolls = maxConfirmPolls
        self.planner = planner
    }

    /// When a durable wait should look again.
    func nextPoll() -> Date {
        Date().addingTimeInterval(Double(pollInterval.components.seconds) + Double(pollInterval.components.attoseconds) / 1e18)
    }

    /// The default: regional endpoints (or one override address, e.g. the simulator), credentials from the
    /// environment or the credentials file. Cloud calls log through the calling step's logger.
    public static func standard(
        endpointOverride: String?, bssEndpoint: String? = nil, credentials: CloudCredentialsProvider = CloudCredentialsProvider(),
        timeout: Duration = .seconds(30), pollInterval: Duration = .seconds(5),
        metrics: UnwindMetrics = .disabled, connections: CloudConnectionPool? = nil, estimator: RefundEstimator = RefundEstimator()
    ) -> TeardownEnvironment {
        // Endpoints depend on the region alone here: built (and their URLs checked) once per region, not for every
        // step of every account.
        let endpointsByRegion = EndpointsByRegion()
        return TeardownEnvironment(makeClient: { input, logger throws(CloudError) in
            let endpoints = try endpointsByRegion.endpoints(for: input.account.region) { () throws(CloudError) in
                try CloudEndpoints(region: input.account.region, override: endpointOverride, bssEndpoint: bssEndpoint)
            }
            let credentials = try credentials.credentials(profile: input.profile)
            if let connections {
                return HuaweiCloudClient(endpoints: endpoints, credentials: credentials, pool: connections, timeout: timeout,
                                         logger: logger, metrics: metrics)
            }
            return HuaweiCloudClient(endpoints: endpoints, credentials: credentials, timeout: timeout, logger: logger, metrics: metrics)
        }, pollInterval: pollInterval, planner: TeardownPlanner(estimator: estimator))
    }
}

/// Endpoints built once per region (see ``TeardownEnvironment/standard(endpointOverride:bssEndpoint:credentials:timeout:pollInterval:metrics:connections:estimator:)``).
private final class EndpointsByRegion: Sendable {
    private let built = Mutex<[String: CloudEndpoints]>([:])

    func endpoints(for region: String, build: () throws(CloudError) -> CloudEndpoints) throws(CloudError) -> CloudEndpoints {
        if let known = built.withLock({ $0[region] }) { return known }
        // A region that fails (a bad id, a bad override) is not kept: the error is built again each time.
        let endpoints = try build()
        built.withLock { $0[region] = endpoints }
        return endpoints
    }
}

extension StepFailure {
    /// A pivot that meets a cancel (or a failure elsewhere) before its change: nothing is asked for, the step fails
    /// for good, and the compensation goes on (or, if what the step found had changed, the workflow fails past its
    /// point of no return).
    static func workflowStopping(_ message: String) -> StepFailure {
        StepFailure(code: "workflow_stopping", message: message, retryable: false)
    }
}

extension CloudError {
    /// The step failure the engine sees: retryable errors retry (not before `Retry-After`), permanent ones stop.
    func stepFailure(now: Date = Date()) -> StepFailure {
        switch classification {
        case .retryable(let after):
            return StepFailure(code: code ?? "cloud_transient", message: description, retryable: true,
                               notBefore: after.map { now.addingTimeInterval(Double($0.components.seconds)) },
                               needsFix: code == CloudCredentialsProvider.fileProblemCode ? true : nil)
        case .alreadyDone, .permanent:
            return StepFailure(code: code ?? "cloud_error", message: description, retryable: false)
        }
    }

    var isAlreadyDone: Bool { classification == .alreadyDone }

    /// Whether a mutating request that failed this way may still have been applied: no answer at all, a 5xx, or a
    /// success answer that could not be read. A 4xx (refused, throttled) changed nothing, and neither did one of
    /// BSS's documented refusals sent with HTTP 200 (its documented way: the error code in a 200 body). Any other
    /// code in a 200 body (a system error, say) may have come after the change.
    var mayHaveBeenApplied: Bool {
        guard let status = httpStatus else { return true }
        if (200..<300).contains(status), let code {
            return !Self.refusalsInASuccessAnswer.contains(code)
        }
        return !(400..<500).contains(status)
    }

    /// BSS's refusals (cloud-apis.md §1.8) that leave the resource as it was, whatever the HTTP status they come with.
    static let refusalsInASuccessAnswer: Set<String> = [
        "CBC.30050010", "CBC.30050009", "CBC.3144", "CBC.30050011", "CBC.3124", "CBC.99003651", "CBC.99003652", "CBC.0150", "CBC.0156",
    ]
}

/// Runs a cloud call, turning a `CloudError` into the step failure the engine understands. `.alreadyDone` is
/// returned to the caller as `nil` so that "it is gone already" counts as done.
func cloud<T>(_ body: () async throws(CloudError) -> T) async throws(StepFailure) -> T? {
    do {
        return try await body()
    } catch {
        if error.isAlreadyDone { return nil }
        throw error.stepFailure()
    }
}

extension JSONValue {
    static func encoding<T: Encodable>(_ value: T) -> JSONValue {
        let encoder = JSONEncoder()
        // Keys as declared: snake_case conversion does not round-trip acronyms (`domainID` ↔ `domain_id` ↔ `domainId`).
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = .sortedKeys
        guard let data = try? encoder.encode(value), let json = try? JSONValue(parsing: String(decoding: data, as: UTF8.self)) else {
            return .null
        }
        return json
    }

    /// This object with `extra` added (fields whose value is nil are left out); any other value unchanged.
    func adding(_ extra: [String: JSONValue?]) -> JSONValue {
        guard case .object(var fields) = self else { return self }
        for (key, value) in extra { if let value { fields[key] = value } }
        return .object(fields)
    }

    /// Every teardown step (and every poll of one) decodes the inventory this way. Writing the bytes with
    /// JSONEncoder (Codable, one container per value) was 4 % of a worker's CPU in the fleet benchmark.
    func decoded<T: Decodable>(_ type: T.Type) -> T? {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try? decoder.decode(type, from: Data(canonicalJSONBytes))
    }
}

/// Decoded inventories by workflow, so that a teardown's steps decode their workflow's inventory once per
/// process rather than once per step and poll (4 % of a worker's CPU in the 1,000-account benchmark).
///
/// An entry is used only if the step's inventory output is the one it was decoded from, so a stale entry
/// can never be returned. Bounded: when full, it starts over.
final class InventoryCache: Sendable {
    private struct Entry: Sendable {
        var source: JSONValue
        var inventory: TeardownInventory
    }

    private let entries = Mutex<[UUID: Entry]>([:])
    let capacity: Int

    init(capacity: Int = 4096) {
        self.capacity = capacity
    }

    func inventory(of workflowID: UUID, from source: JSONValue) -> TeardownInventory? {
        if let entry = entries.withLock({ $0[workflowID] }), entry.source == source { return entry.inventory }
        guard let inventory = source.decoded(TeardownInventory.self) else { return nil }
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[workflowID] = Entry(source: source, inventory: inventory)
        }
        return inventory
    }

    var count: Int { entries.withLock { $0.count } }
}

extension StepContext {
    /// The inventory saved by the `inventory` step.
    func inventory(_ env: TeardownEnvironment) throws(StepFailure) -> TeardownInventory {
        guard let source = outputs["inventory"], let inventory = env.inventories.inventory(of: workflowID, from: source) else {
            throw StepFailure(code: "missing_inventory", message: "the inventory step's output is missing or unreadable", retryable: false)
        }
        return inventory
    }

    /// The step's checkpoint decoded as `T`, or a fresh value when it has none. A checkpoint that is there but cannot
    /// be read (edited or damaged by hand) is refused: taken as fresh, a compensation would find nothing to undo and
    /// report success, and a pivot would forget the change it made.
    func state<T: Codable & Sendable>(_ fresh: T) throws(StepFailure) -> T {
        try Self.state(from: checkpoint, fresh: fresh, stepID: stepID, phase: phase)
    }

    static func state<T: Codable & Sendable>(from checkpoint: JSONValue?, fresh: T, stepID: String, phase: StepPhase) throws(StepFailure) -> T {
        guard let checkpoint, checkpoint != .null else { return fresh }
        guard let state = checkpoint.decoded(T.self) else {
            throw StepFailure(
                code: "checkpoint_unreadable",
                message: "the checkpoint of step '\(stepID)' (\(phase.rawValue)) cannot be read, so what it recorded is unknown; restore it from the step's last checkpoint event in `unwind history`, then resume",
                retryable: false)
        }
        return state
    }
}

/// Saves a pivot-capable step's checkpoint, marking the workflow past its point of no return with the first save at
/// which the step may have changed the cloud. Later saves need not repeat it: an irreversible save costs a whole
/// transition, and the mark is durable with the checkpoint that carried it.
struct PivotCheckpoint {
    let context: StepContext
    /// Whether the checkpoint the attempt started from already recorded a change (and so crossed the pivot).
    let changedAtStart: Bool

    func save(_ checkpoint: JSONValue, changed: Bool) async throws {
        try await context.saveCheckpoint(checkpoint, irreversible: changed && !changedAtStart)
    }
}

/// Money an unsubscription order booked, read from BSS once the order completed.
struct BookedOrder: Codable, Sendable, Equatable {
    var orderID: String
    var resourceIDs: [String]
    var refund: Double
    var fee: Double
    var consumed: Double

    /// As the step's output shows it: snake_case keys, like every output scripts read. (Checkpoints keep the
    /// Codable form, which workflows in flight already hold.)
    var report: JSONValue {
        ["order_id": .string(orderID), "resource_ids": .array(resourceIDs.map { .string($0) }),
         "refund": .number(refund), "fee": .number(fee), "consumed": .number(consumed)]
    }
}

/// What SecMaster listed for a project at one moment: enough to tell whether value-added packages may go.
///
/// The quota step takes one to confirm the quotas gone and hands it over in its output, so that the packages
/// step, which usually starts the same instant, need not list the subscription again.
struct SubscriptionSnapshot: Codable, Sendable, Equatable {
    static let outputKey = "subscription_after"
    /// A handed-over snapshot older than this is not trusted: the packages step lists the subscription itself.
    /// Packages only ever leave the list, but an asset quota could have been bought since.
    static let maxHandOverAge: TimeInterval = 30

    var takenAt: Date
    /// Upper-cased: BASIC, STANDARD, PROFESSIONAL, NA (or empty when SecMaster sends none).
    var edition: String
    var resourceIDs: [String]
    var quotaIDs: [String]

    init(_ subscription: SecMasterSubscription, takenAt: Date) {
        self.takenAt = takenAt
        edition = subscription.csbVersion.uppercased()
        resourceIDs = subscription.resources.map(\.resourceID)
        quotaIDs = subscription.resources.filter { SecMasterCatalog.kind(of: $0) == .quota }.map(\.resourceID)
    }

    /// Packages can only be unsubscribed once no asset quota remains and the edition is basic.
    var allowsPackageUnsubscription: Bool {
        quotaIDs.isEmpty && SecMasterCatalog.isBasic(edition)
    }

    /// The snapshot in a quota step's output, if there is one and it is recent. A clock that went backwards
    /// makes it untrusted too.
    static func handedOver(_ quotaStepOutput: JSONValue?, now: Date) -> SubscriptionSnapshot? {
        guard case .object(let fields)? = quotaStepOutput, let snapshot = fields[outputKey]?.decoded(SubscriptionSnapshot.self) else { return nil }
        let age = now.timeIntervalSince(snapshot.takenAt)
        return age >= -1 && age <= maxHandOverAge ? snapshot : nil
    }
}

/// The value-added package names SecMaster sells; anything else in its subscription list is an asset quota.
enum SecMasterCatalog {
    /// An edition (upper-cased `csb_version`) with no paid asset quota: BASIC, NA (never subscribed) or none sent.
    static func isBasic(_ edition: String) -> Bool { edition == "BASIC" || edition == "NA" || edition.isEmpty }

    static let packageNames: Set<String> = ["large_screen", "log_collection", "log_retention", "log_analysis", "soar"]

    static func kind(of resource: SecMasterResource) -> SubscriptionItem.Kind {
        let names = [resource.resourceTypeName, resource.resourceType, resource.resourceSpecCode ?? ""].map { $0.lowercased() }
        return names.contains { name in packageNames.contains { name.contains($0) } } ? .package : .quota
    }
}

func money(_ decimal: Decimal?) -> Double {
    guard let decimal else { return 0 }
    // Through the decimal text: NSDecimalNumber's doubleValue turns 273.97 into 273.96999999999997, which then
    // shows in reports and JSON.
    return Double(decimal.description) ?? NSDecimalNumber(decimal: decimal).doubleValue
}

/// Riding out a cloud outage once a step's change is under way (orders placed, a deletion job running): a passing
/// failure while following it pauses the step as a durable wait instead of spending an attempt, for up to
/// ``longest`` without anything going further. Counting pauses instead ran a teardown out of attempts in a
/// four-minute regional outage, past its point of no return, when polls came every half second.
enum OutagePause {
    /// How long pauses that move nothing may go on before failures spend attempts again.
    static let longest: TimeInterval = 30 * 60

    /// The wait before looking again after `pauses` pauses in a row: 1, 2, 4 … seconds, at most a minute, so that
    /// a fleet does not hammer an API that is down.
    static func delay(afterPauses pauses: Int) -> TimeInterval {
        min(60, pow(2, Double(max(0, min(pauses, 7) - 1))))
    }
}
