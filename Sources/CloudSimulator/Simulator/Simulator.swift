import Foundation
import HuaweiCloudSigning
import Logging
import Synchronization

/// The simulated cloud behind one port: authentication, replay protection, throttling, fault injection, the
/// domain state and the ledger, with no HTTP types (the Hummingbird layer only moves bytes).
public final class Simulator: Sendable {
    public let clock: SimulatedClock
    public let ledger: Ledger
    let logger: Logger
    private let router = RouteMatcher()
    private let core: Mutex<Core>

    struct Core: Sendable {
        var state: CloudState
        /// Each account as it was just before its latest change, served by `stale_read` faults. Kept per account
        /// (not a copy of the whole state): holding a second reference to the accounts array made every request
        /// copy all of it, which made a 1,000-account fleet quadratic.
        var previousAccounts: [Int: Account] = [:]
        var faults: FaultInjector
        var limiter = RateLimiter()
        var replay = ReplayCache()
        /// What `/_sim/seed/reset` goes back to.
        var seedData: Data?
        var seedName: String
        /// Loads since the process started (0: the seed it started with). Mixed into the id generator, so that a
        /// reset or a new seed never hands out an order, job or refund id this process gave out before: a client
        /// that kept an old id must not find it naming something else.
        var generation: UInt64 = 0
        /// Where each access key's account was last found. Every hit is checked against the state, so a grown or
        /// reloaded state is never misread; it only saves the linear searches (several per request).
        var accountIndexByAccessKey: [String: Int] = [:]

        mutating func accountIndex(accessKey: String) -> Int? {
            if let cached = accountIndexByAccessKey[accessKey], state.accounts.indices.contains(cached),
               state.accounts[cached].accessKey == accessKey {
                return cached
            }
            guard let found = state.accountIndex(accessKey: accessKey) else { return nil }
            accountIndexByAccessKey[accessKey] = found
            return found
        }
    }

    public init(state: CloudState, faults: [FaultRule] = [], clock: SimulatedClock, seedData: Data? = nil, seedName: String = "seed", logger: Logger) {
        self.clock = clock
        self.ledger = Ledger()
        self.logger = logger
        self.core = Mutex(Core(state: state, faults: FaultInjector(rules: faults), seedData: seedData, seedName: seedName))
    }

    /// Loads a seed file and builds a simulator on it.
    /// - Parameter randomSeed: overrides the seed file's `settings.random_seed`.
    public convenience init(seedFile: String, clock: SimulatedClock, logger: Logger, randomSeed: UInt64? = nil) throws(SeedError) {
        let data = try SeedLoader.read(file: seedFile)
        var loaded = try SeedLoader.load(data: data, name: seedFile, now: clock.now())
        if let randomSeed {
            loaded.state.settings.randomSeed = randomSeed
            loaded.state.rng = SplitMix64(seed: randomSeed)
        }
        self.init(state: loaded.state, faults: loaded.faults, clock: clock, seedData: data, seedName: seedFile, logger: logger)
    }

    /// A copy of the current state, advanced to now.
    public func snapshot() -> CloudState {
        let now = clock.now()
        return core.withLock { core in
            core.state.advance(to: now)
            return core.state
        }
    }

    /// Replaces the state from seed JSON (the admin API's load and reset); clears ledger, faults, buckets.
    public func load(seedData: Data, name: String) throws(SeedError) {
        var loaded = try SeedLoader.load(data: seedData, name: name, now: clock.now())
        core.withLock { core in
            let generation = core.generation + 1
            loaded.state.rng = SplitMix64(seed: loaded.state.settings.randomSeed ^ (generation &* 0x9E37_79B9_7F4A_7C15))
            core = Core(state: loaded.state, faults: FaultInjector(rules: loaded.faults), seedData: seedData, seedName: name)
            core.generation = generation
        }
        ledger.reset()
    }

    func withCore<T>(_ body: (inout Core) -> T) -> T { core.withLock { body(&$0) } }

    // MARK: Cloud requests

    public func handle(_ request: IncomingRequest) -> SimulatorReply {
        guard let match = router.match(method: request.method, path: request.path) else {
            return .error(.apiNotFound(method: request.method, path: request.path))
        }
        let api = match.api
        let now = clock.now()
        let realNow = clock.realTime()
        let signable = SignableRequest(method: request.method, path: request.path, query: request.query, headers: request.headers, body: request.body)
        let query = Canonical.queryPairs(request.query)
        // Parsed once: the ledger's resource ids and the handler both need it.
        let parsedBody = Result { () throws -> JSON? in try JSON.parse(request.body) }

        return core.withLock { core -> SimulatorReply in
            var record = LedgerEntry(
                sequence: 0, time: now, requestID: request.requestID, account: "", api: api.name, method: request.method,
                path: request.path, resourceIDs: Self.resourceIDs(api: api, parameters: match.parameters, body: (try? parsedBody.get()) ?? nil),
                outcome: .rejected, status: 0, errorCode: nil, effects: [], money: LedgerMoney(), references: [],
                responseDropped: false, note: nil
            )
            func finish(_ reply: SimulatorReply, outcome: LedgerEntry.Outcome, error: CloudError? = nil) -> SimulatorReply {
                if api.isMutating {
                    record.outcome = outcome
                    record.status = reply.transport == .respond ? reply.status : 0
                    record.errorCode = error?.code
                    if let error, record.effects.isEmpty { record.effects = error.effects }
                    let stored = ledger.append(record)
                    logger.info("mutating request recorded", metadata: [
                        "ledger.sequence": "\(stored.sequence)", "request.id": "\(stored.requestID)", "account": "\(stored.account)",
                        "api": "\(stored.api)", "outcome": "\(stored.outcome.rawValue)", "http.status": "\(stored.status)",
                        "resource.ids": "\(stored.resourceIDs.joined(separator: ","))",
                    ])
                }
                return reply
            }
            func reject(_ error: CloudError) -> SimulatorReply { finish(.error(error), outcome: .rejected, error: error) }

            // 1. Who is calling: AK/SK signature or a static token.
            let settings = core.state.settings
            let accountIndex: Int
            if request.header("Authorization") == nil, let token = request.header("X-Auth-Token") {
                guard let index = core.state.accountIndex(token: token) else { return reject(.authentication("decrypt token fail")) }
                accountIndex = index
            } else {
                let verifier = SignatureVerifier(maxSkewSeconds: settings.maxSkewSeconds)
                let authNow = Int64((settings.signatureClock == .real ? realNow : now).timeIntervalSince1970.rounded(.down))
                let verified: SignatureVerifier.VerifiedSignature
                do throws(SignatureError) {
                    verified = try verifier.verify(signable, nowEpochSeconds: authNow) { key in
                        core.accountIndex(accessKey: key).map { core.state.accounts[$0].secretKey }
                    }
                } catch {
                    if let key = (try? AuthorizationHeader.parse(request.header("Authorization") ?? ""))?.accessKey,
                       let index = core.accountIndex(accessKey: key) {
                        record.account = core.state.accounts[index].domainID
                    }
                    return reject(.authentication(error.description))
                }
                guard let index = core.accountIndex(accessKey: verified.accessKey) else { return reject(.authentication("unknown access key")) }
                accountIndex = index
                record.account = core.state.accounts[index].domainID
                // A temporary access key is only good with its security token, signed like any other header.
                if let expected = core.state.accounts[index].securityToken {
                    guard let token = request.header("X-Security-Token") else {
                        return reject(.authentication("the access key is temporary and the request has no X-Security-Token"))
                    }
                    guard verified.signedHeaders.contains("x-security-token") else {
                        return reject(.authentication("X-Security-Token is not among the signed headers"))
                    }
                    guard token == expected else { return reject(.authentication("the security token does not belong to the access key")) }
                }
                let checkReplay = settings.replayProtection == .all || (settings.replayProtection == .mutating && api.isMutating)
                if checkReplay, !core.replay.admit(signature: verified.signature, expiresAt: verified.sdkDateEpochSeconds + settings.maxSkewSeconds, now: authNow) {
                    return reject(.authentication("the request has been replayed (signature already used)"))
                }
            }
            let account = core.state.accounts[accountIndex]
            record.account = account.domainID

            // 2. Scope: the project in the path and the X-Project-Id / X-Domain-Id headers must be the caller's.
            if let project = match.parameters["project_id"], !account.projectIDs.contains(project) {
                return reject(.permissionDenied("project \(project) does not belong to the caller's account"))
            }
            if let header = request.header("X-Project-Id"), let project = match.parameters["project_id"], header != project {
                return reject(.permissionDenied("X-Project-Id \(header) does not match the project \(project) in the path"))
            }
            if let header = request.header("X-Domain-Id"), header != account.domainID {
                return reject(.permissionDenied("X-Domain-Id \(header) is not the caller's account"))
            }

            // 3. Throttling, per account and API; every attempt counts.
            let limit = settings.rateLimit(for: api.name)
            if let wait = core.limiter.acquire(account: account.domainID, api: api.name, limitPerMinute: limit, now: now) {
                var reply = SimulatorReply.error(.throttled(limit: limit))
                reply.headers.append(("Retry-After", String(Int(wait.rounded(.up)))))
                return finish(reply, outcome: .rejected, error: .throttled(limit: limit))
            }

            // 4. Faults.
            let fired = core.faults.fire(
                api: api, accountDomainID: account.domainID, accountName: account.name, resourceIDs: record.resourceIDs,
                rng: &core.state.rng)
            let delay = fired.filter { $0.kind == .slow }.compactMap(\.delaySeconds).reduce(0, +)
            // Counted as they take effect: a slow rule delays whatever answer goes back; the others below.
            var effective = fired.filter { $0.kind == .slow }
            defer { core.faults.spend(effective, resourceIDs: record.resourceIDs) }
            if let rule = fired.first(where: { [.error, .timeout, .reset].contains($0.kind) }) {
                effective.append(rule)
                record.note = "fault #\(rule.id) \(rule.kind.rawValue)"
                logger.debug("fault fired", metadata: ["fault.id": "\(rule.id)", "fault.kind": "\(rule.kind.rawValue)", "api": "\(api.name)"])
                switch rule.kind {
                case .timeout: return finish(SimulatorReply(status: 0, transport: .hang(seconds: settings.timeoutCapSeconds), delaySeconds: delay), outcome: .fault)
                case .reset: return finish(SimulatorReply(status: 0, transport: .reset, delaySeconds: delay), outcome: .fault)
                default:
                    let error = Self.faultError(rule, api: api)
                    var reply = SimulatorReply.error(error)
                    reply.delaySeconds = delay
                    if error.status == 429 { reply.headers.append(("Retry-After", "2")) }
                    return finish(reply, outcome: .fault, error: error)
                }
            }

            // 5. The service itself.
            let apiRequest: APIRequest
            do {
                apiRequest = APIRequest(api: api, parameters: match.parameters, query: query, headers: request.headers, body: try parsedBody.get())
            } catch {
                return reject(APIRequest(api: api).parameterError("the request body is not valid JSON"))
            }
            let handlerFaults = HandlerFaults(failJob: fired.contains { $0.kind == .jobFail })
            let stale = fired.contains { $0.kind == .staleRead } && core.previousAccounts[accountIndex] != nil
            if stale, let rule = fired.first(where: { $0.kind == .staleRead }) { effective.append(rule) }
            let result: APIResult
            do throws(CloudError) {
                if stale {
                    var old = core.state
                    old.accounts[accountIndex] = core.previousAccounts[accountIndex]!
                    result = try CloudHandlers.handle(apiRequest, state: &old, account: accountIndex, now: now, faults: handlerFaults)
                } else {
                    // Only a change needs the account as it was; holding a copy during a read would make the read's
                    // own bookkeeping (orders completing, jobs purged) copy the account's arrays.
                    let before = api.isMutating ? core.state.accounts[accountIndex] : nil
                    result = try CloudHandlers.handle(apiRequest, state: &core.state, account: accountIndex, now: now, faults: handlerFaults)
                    if let before, result.mutation?.effects.contains(where: \.changed) == true { core.previousAccounts[accountIndex] = before }
                }
            } catch {
                var reply = SimulatorReply.error(error)
                reply.delaySeconds = delay
                return finish(reply, outcome: error.isRepeat ? .repeat : .rejected, error: error)
            }
            if let mutation = result.mutation {
                record.effects = mutation.effects
                record.money = mutation.money
                record.references = mutation.references
            }
            var reply = SimulatorReply(status: result.status, body: result.body, delaySeconds: delay)
            let changed = record.effects.contains(where: \.changed)
            if let rule = fired.first(where: { $0.kind == .dropAfterApply }) {
                effective.append(rule)
                record.responseDropped = true
                record.note = "fault drop_after_apply"
                reply.transport = .reset
            }
            if stale { reply.headers.append(("X-Sim-Stale-Read", "true")) }
            if handlerFaults.failJob, let rule = fired.first(where: { $0.kind == .jobFail }) { effective.append(rule) }
            if handlerFaults.failJob && !changed {
                // The request was accepted, but the injected fault makes its job fail: not a repeat of anything.
                record.note = "fault job_fail"
                return finish(reply, outcome: .fault)
            }
            return finish(reply, outcome: changed ? .applied : .repeat)
        }
    }

    /// The resource ids a mutating request names, for the ledger.
    static func resourceIDs(api: CloudAPI, parameters: [String: String], body json: JSON?) -> [String] {
        switch api {
        case .bssUnsubscribe, .secmasterDeleteSubscriptionOrder:
            return json?["resource_ids"]?.arrayValue?.compactMap(\.stringValue) ?? []
        case .bssAutoRenewOn, .bssAutoRenewOff: return [parameters["resource_id"] ?? ""]
        case .ecsDeleteServers: return json?["servers"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
        case .vpcepDeleteEndpoint: return [parameters["vpc_endpoint_id"] ?? ""]
        case .secmasterDeleteNodes: return json?["delete_ids"]?.arrayValue?.compactMap(\.stringValue) ?? []
        default: return []
        }
    }

    /// The error body of an `error` fault, in the service's shape and code family unless the rule names a code.
    static func faultError(_ rule: FaultRule, api: CloudAPI) -> CloudError {
        let status = rule.status ?? 500
        if status == 429 {
            return CloudError(status: 429, code: rule.code ?? "APIGW.0308", message: rule.message ?? "The throttling threshold has been reached: policy user over ratelimit,limit:1,time:1 minute")
        }
        let code = rule.code ?? {
            switch api.service {
            case .bss: "CBC.0999"
            case .ecs: "Ecs.0002"
            case .vpcep: "EndPoint.0001"
            case .secmaster: "SIM.SecMaster.0500"
            }
        }()
        return CloudError(status: status, code: code, message: rule.message ?? "Injected fault: HTTP \(status)", shape: api.errorShape)
    }
}
