import Foundation

/// Reads a seed file and builds the initial `CloudState`, with relative times resolved against `now`.
public enum SeedLoader {
    public struct Loaded: Sendable {
        public var state: CloudState
        public var faults: [FaultRule]
    }

    public static func load(file: String, now: Date) throws(SeedError) -> Loaded {
        try load(data: try read(file: file), name: file, now: now)
    }

    /// A seed file's bytes, or an error that says why there are none (missing, a directory, not readable).
    public static func read(file: String) throws(SeedError) -> Data {
        let data: Data
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory) else {
            throw SeedError(file: file, path: "", problem: "does not exist; give the path of a seed JSON file (deploy/cloudsim/seeds/ has examples)")
        }
        if isDirectory.boolValue { throw SeedError(file: file, path: "", problem: "is a directory; give the path of a seed JSON file inside it") }
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: file))
        } catch {
            let reason = FileManager.default.isReadableFile(atPath: file) ? error.localizedDescription : "permission denied"
            throw SeedError(file: file, path: "", problem: "cannot be read (\(reason))")
        }
        return data
    }

    public static func load(data: Data, name: String, now: Date) throws(SeedError) -> Loaded {
        let seed = try decode(data: data, name: name)
        return try build(seed, name: name, now: now)
    }

    static func decode(data: Data, name: String) throws(SeedError) -> Seed {
        // Read like the `Seed` itself, so the check sees every seed that loads (`JSON.parse` is strict RFC 8259).
        if let json = try? JSON.parseWithJSONDecoder(Array(data)), let (path, key) = SeedKeyCheck.firstUnknownKey(in: json) {
            throw SeedError(file: name, path: path.isEmpty ? key : path + "." + key, problem: "unknown field (misspelt?); docs/cloudsim.md lists the seed fields")
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            var seed = try decoder.decode(Seed.self, from: data)
            // Fault rules are kept as JSON and read by `FaultRule.parse`, which expects the file's own keys: the
            // snake-case conversion above turned `once_per_resource` into `oncePerResource`, silently dropping it.
            if seed.faults != nil, let raw = try? JSON.parseWithJSONDecoder(Array(data)) {
                seed.faults = raw["faults"]?.arrayValue
            }
            return seed
        } catch let error as DecodingError {
            if case .dataCorrupted(let context) = error, context.codingPath.isEmpty, let json = try? JSON.parseWithJSONDecoder(Array(data)) {
                // The text is JSON; Foundation says "not valid JSON" when a number does not fit its field.
                if let path = SeedKeyCheck.firstBadWholeNumber(in: json) {
                    throw SeedError(file: name, path: path, problem: "must be a whole number (no fraction) that fits 64 bits")
                }
                throw SeedError(file: name, path: "", problem: "a number does not fit its field: a fraction where a whole number is expected (size, counts, seconds of a rate limit), or a number too large")
            }
            throw describe(error, file: name)
        } catch {
            throw SeedError(file: name, path: "", problem: "is not valid JSON (\(error))")
        }
    }

    /// Turns Foundation's decoding error into "at accounts[0].servers[1].id: required field is missing".
    static func describe(_ error: DecodingError, file: String) -> SeedError {
        func path(_ keys: [any CodingKey]) -> String {
            var out = ""
            for key in keys {
                if let index = key.intValue { out += "[\(index)]" } else { out += (out.isEmpty ? "" : ".") + snake(key.stringValue) }
            }
            return out
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = path(context.codingPath)
            return SeedError(file: file, path: parent.isEmpty ? snake(key.stringValue) : parent + "." + snake(key.stringValue), problem: "required field is missing")
        case .typeMismatch(let type, let context):
            return SeedError(file: file, path: path(context.codingPath), problem: "expected \(friendly(type))")
        case .valueNotFound(let type, let context):
            return SeedError(file: file, path: path(context.codingPath), problem: "expected \(friendly(type)), got null")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                return SeedError(file: file, path: "", problem: "is not valid JSON (\((context.underlyingError as? NSError)?.userInfo[NSDebugDescriptionErrorKey] as? String ?? context.debugDescription))")
            }
            // "Cannot initialize Kind from invalid String value edition" → what the seed author needs to know.
            let text = context.debugDescription
            if let range = text.range(of: "from invalid String value ") {
                return SeedError(file: file, path: path(context.codingPath), problem: "'\(text[range.upperBound...])' is not an allowed value; docs/cloudsim.md lists the seed fields and their values")
            }
            return SeedError(file: file, path: path(context.codingPath), problem: text)
        @unknown default:
            return SeedError(file: file, path: "", problem: "\(error)")
        }
    }

    private static func friendly(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type, is UInt64.Type: "an integer"
        case is Double.Type: "a number"
        case is Bool.Type: "true or false"
        default: String(describing: type).hasPrefix("Array") ? "an array" : "an object"
        }
    }

    /// `convertFromSnakeCase` reports camelCase keys; convert back so the path matches the file.
    private static func snake(_ key: String) -> String {
        var out = ""
        for character in key {
            if character.isUppercase { out += "_" + character.lowercased() } else { out.append(character) }
        }
        return out
    }

    // MARK: Building the state

    static func build(_ seed: Seed, name: String, now: Date) throws(SeedError) -> Loaded {
        func fail(_ path: String, _ problem: String) -> SeedError { SeedError(file: name, path: path, problem: problem) }
        let settings = applying(seed.settings, to: SimulatorSettings())
        if let s = seed.settings {
            if let status = s.vpcepDeleteStatus, ![200, 202, 204].contains(status) { throw fail("settings.vpcep_delete_status", "must be 200, 202 or 204") }
            // 200 too: BSS's own error table lists its business errors with status 200.
            if let status = s.bssErrorStatus, status != 200 && !(400...599).contains(status) { throw fail("settings.bss_error_status", "must be 200 or an HTTP error status between 400 and 599") }
            if let status = s.packageRuleStatus, status != 200 && !(400...599).contains(status) { throw fail("settings.package_rule_status", "must be 200 or an HTTP error status between 400 and 599") }
            if let min = s.ecsJobRunSecondsMin, let max = s.ecsJobRunSecondsMax, min > max { throw fail("settings.ecs_job_run_seconds_min", "must not exceed ecs_job_run_seconds_max") }
            // Durations: a negative one would make orders complete before they were placed.
            let durations: [(String, Double?)] = [
                ("order_processing_seconds", s.orderProcessingSeconds), ("order_refund_seconds", s.orderRefundSeconds),
                ("ecs_job_init_seconds", s.ecsJobInitSeconds), ("ecs_job_run_seconds_min", s.ecsJobRunSecondsMin),
                ("ecs_job_run_seconds_max", s.ecsJobRunSecondsMax), ("server_linger_seconds", s.serverLingerSeconds),
                ("job_purge_seconds", s.jobPurgeSeconds), ("vpcep_deleting_seconds", s.vpcepDeletingSeconds),
                ("max_skew_seconds", s.maxSkewSeconds.map(Double.init)), ("timeout_cap_seconds", s.timeoutCapSeconds),
            ]
            for (key, value) in durations {
                if let value, !(value.isFinite && value >= 0 && value <= 366 * 86_400) { throw fail("settings.\(key)", "must be between 0 and 31622400 seconds") }
            }
            // A job purged the moment it ends could never be seen finished (ShowJob would go from RUNNING to 404).
            if let purge = s.jobPurgeSeconds, purge < 1 { throw fail("settings.job_purge_seconds", "must be at least 1 second, so a finished job can be read before it is purged") }
            if let days = s.expiredRetentionDays, !(days.isFinite && days >= 0 && days <= 366) { throw fail("settings.expired_retention_days", "must be between 0 and 366 days") }
            if let days = s.fullRefundWindowDays, !(days.isFinite && days >= 0 && days <= 366) { throw fail("settings.full_refund_window_days", "must be between 0 and 366 days") }
            if let count = s.fullRefundsPerYear, !(0...1_000).contains(count) { throw fail("settings.full_refunds_per_year", "must be between 0 and 1000") }
            if let limits = s.rateLimits {
                let known = Set(CloudAPI.allCases.map(\.name))
                for (api, perMinute) in limits.sorted(by: { $0.key < $1.key }) {
                    guard api == "default" || known.contains(api) else {
                        throw fail("settings.rate_limits.\(api)", "unknown API; use \"default\" or one of \(known.sorted().joined(separator: ", "))")
                    }
                    guard perMinute >= 1 else { throw fail("settings.rate_limits.\(api)", "must be at least 1 call per minute") }
                }
            }
        }
        var state = CloudState(settings: settings, accounts: [])
        var seenKeys: Set<String> = [], seenDomains: Set<String> = []
        if seed.accounts.isEmpty { throw fail("accounts", "at least one account is required") }
        for (i, seedAccount) in seed.accounts.enumerated() {
            let at = "accounts[\(i)]"
            guard !seedAccount.projectIds.isEmpty else { throw fail("\(at).project_ids", "at least one project id is required") }
            guard seenKeys.insert(seedAccount.accessKey).inserted else { throw fail("\(at).access_key", "access key \(seedAccount.accessKey) is used by another account") }
            guard seenDomains.insert(seedAccount.domainId).inserted else { throw fail("\(at).domain_id", "domain id \(seedAccount.domainId) is used by another account") }
            state.accounts.append(try AccountBuilder(seed: seedAccount, path: at, file: name, now: now).build(state: &state))
        }
        var faults: [FaultRule] = []
        for (i, json) in (seed.faults ?? []).enumerated() {
            do {
                faults.append(try FaultRule.parse(json, id: i + 1))
            } catch {
                throw fail(error.field.isEmpty ? "faults[\(i)]" : "faults[\(i)].\(error.field)", error.problem)
            }
        }
        return Loaded(state: state, faults: faults)
    }

    static func applying(_ seed: Seed.Settings?, to base: SimulatorSettings) -> SimulatorSettings {
        guard let seed else { return base }
        var s = base
        if let v = seed.orderProcessingSeconds { s.orderProcessingSeconds = v }
        if let v = seed.orderRefundSeconds { s.orderRefundSeconds = v }
        if let v = seed.ecsJobInitSeconds { s.ecsJobInitSeconds = v }
        if let v = seed.ecsJobRunSecondsMin { s.ecsJobRunSecondsMin = v }
        if let v = seed.ecsJobRunSecondsMax { s.ecsJobRunSecondsMax = v }
        if let v = seed.serverLingerSeconds { s.serverLingerSeconds = v }
        if let v = seed.jobPurgeSeconds { s.jobPurgeSeconds = v }
        if let v = seed.expiredRetentionDays { s.expiredRetentionDays = v }
        if let v = seed.vpcepDeletingSeconds { s.vpcepDeletingSeconds = v }
        if let v = seed.vpcepDeleteStatus { s.vpcepDeleteStatus = v }
        if let v = seed.maxSkewSeconds { s.maxSkewSeconds = v }
        if let v = seed.replayProtection { s.replayProtection = v }
        if let v = seed.signatureClock { s.signatureClock = v }
        if let v = seed.fullRefundWindowDays { s.fullRefundWindowDays = v }
        if let v = seed.fullRefundsPerYear { s.fullRefundsPerYear = v }
        if let v = seed.feeBase { s.feeBase = v }
        if let v = seed.bssErrorStatus { s.bssErrorStatus = v }
        if let v = seed.alreadyUnsubscribedCode { s.alreadyUnsubscribedCode = v }
        if let v = seed.inFlightCode { s.inFlightCode = v }
        if let v = seed.bssParameterErrorCode { s.bssParameterErrorCode = v }
        if let v = seed.packageRuleStatus { s.packageRuleStatus = v }
        if let v = seed.packageRuleCode { s.packageRuleCode = v }
        if let v = seed.secmasterNotFoundCode { s.secmasterNotFoundCode = v }
        if let v = seed.secmasterPrepaidCode { s.secmasterPrepaidCode = v }
        if let v = seed.ecsPrepaidDelete { s.ecsPrepaidDelete = v }
        if let v = seed.ecsPrepaidCode { s.ecsPrepaidCode = v }
        if let v = seed.rateLimits {
            if let d = v["default"] { s.rateLimitPerMinute = d }
            s.rateLimitPerAPI = v.filter { $0.key != "default" }
        }
        if let v = seed.randomSeed { s.randomSeed = v }
        if let v = seed.timeoutCapSeconds { s.timeoutCapSeconds = v }
        return s
    }
}

extension SimulatorSettings.ReplayProtection: Decodable {}
extension SimulatorSettings.FeeBase: Decodable {}
extension SimulatorSettings.SignatureClock: Decodable {}
extension SimulatorSettings.ECSPrepaidDelete: Decodable {}
