import CloudSimulator
import Foundation
import Testing

@Suite("Seed loading")
struct SeedLoaderTests {
    func load(_ text: String) throws(SeedError) -> SeedLoader.Loaded {
        try SeedLoader.load(data: Data(text.utf8), name: "bad.json", now: TestSeed.start)
    }

    func problem(_ text: String) -> String? {
        do {
            _ = try load(text)
            return nil
        } catch {
            return error.description
        }
    }

    let minimal = #"{"name":"a","domain_id":"d","project_ids":["p"],"access_key":"ak","secret_key":"sk"}"#

    @Test("fault rules in a seed keep their snake_case fields (once_per_resource, delay_seconds)")
    func seedFaultsKeepTheirFields() throws {
        let seed = #"{"faults":[{"api":"ecs.delete_servers","kind":"job_fail","once_per_resource":true},{"api":"*","kind":"slow","delay_seconds":0.5}],"accounts":[\#(minimal)]}"#
        let loaded = try SeedLoader.load(data: Data(seed.utf8), name: "faults.json", now: Date())
        #expect(loaded.faults.first?.oncePerResource == true)
        #expect(loaded.faults.last?.delaySeconds == 0.5)
    }

    @Test("errors name the file, the JSON path and the problem", arguments: [
        (#"{"accounts":[{"name":"a","project_ids":["p"],"access_key":"ak","secret_key":"sk"}]}"#,
         "seed file bad.json: at accounts[0].domain_id: required field is missing"),
        (#"{"accounts":[{"name":"a","domain_id":"d","project_ids":["p"],"access_key":"ak","secret_key":"sk","servers":[{"id":"s","charging_mode":"monthly"}]}]}"#,
         "seed file bad.json: at accounts[0].servers[0].charging_mode: expected 'prepaid' or 'postpaid', got 'monthly'"),
        (#"{"accounts":[{"name":"a","domain_id":"d","project_ids":["p"],"access_key":"ak","secret_key":"sk","secmaster":[{"resource_id":"r","kind":"quota","spec":"standard","charging_mode":"prepaid","purchased":"yesterday","paid_amount":1}]}]}"#,
         "seed file bad.json: at accounts[0].secmaster[0].purchased: expected a time such as 'now', '-2d', 'now-36h' or '2026-11-20T08:00:00Z' (at most 200 years away), got 'yesterday'"),
        (#"{"accounts":[{"name":"a","domain_id":"d","project_ids":["p"],"access_key":"ak","secret_key":"sk","secmaster":[{"resource_id":"r","kind":"quota","spec":"standard","charging_mode":"prepaid"}]}]}"#,
         "seed file bad.json: at accounts[0].secmaster[0].paid_amount: required for a prepaid resource (yuan actually paid)"),
        (#"{"accounts":[{"name":"a","domain_id":"d","project_ids":["p"],"access_key":"ak","secret_key":"sk","servers":[{"id":"s","charging_mode":"postpaid","project_id":"other"}]}]}"#,
         "seed file bad.json: at accounts[0].servers[0].project_id: project other is not in project_ids"),
        (#"{"accounts":[]}"#, "seed file bad.json: at accounts: at least one account is required"),
        (#"{"settings":{"order_processing_second":3},"accounts":[]}"#, "seed file bad.json: at settings.order_processing_second: unknown field"),
        (#"{"accounts":[{"name":"a","domain_id":"d","project_ids":["p"],"access_key":"ak","secret_key":"sk","servers":[{"id":"s","charging_mode":"postpaid","public_ips":[{"id":"e","adress":"x"}]}]}]}"#,
         "seed file bad.json: at accounts[0].servers[0].public_ips[0].adress: unknown field"),
        (#"{"accounts":[{"name":"a","domain_id":"d","project_ids":["p"],"access_key":"ak","secret_key":"sk","secmaster":[{"resource_id":"r","kind":"quota","spec":"standard","charging_mode":"prepaid","purchased":"-1000000000y","paid_amount":1}]}]}"#,
         "seed file bad.json: at accounts[0].secmaster[0].purchased: expected a time such as 'now', '-2d', 'now-36h' or '2026-11-20T08:00:00Z' (at most 200 years away), got '-1000000000y'"),
        (#"{"accounts":[{"name":"a","domain_id":"d","project_ids":["p"],"access_key":"ak","secret_key":"sk","secmaster":[{"resource_id":"r","kind":"quota","spec":"standard","charging_mode":"prepaid","term":"300000000y","paid_amount":1}]}]}"#,
         "seed file bad.json: at accounts[0].secmaster[0].term: expected a term such as '1m', '6m', '1y', '2y' or '3y' (at most 10 years), got '300000000y'"),
        (#"{"settings":{"bss_error_status":99},"accounts":[]}"#, "seed file bad.json: at settings.bss_error_status: must be 200 or an HTTP error status between 400 and 599"),
        (#"{"accounts": [ "#, "seed file bad.json: is not valid JSON"),
        (#"{"settings":{"order_processing_seconds":"two"},"accounts":[]}"#, "seed file bad.json: at settings.order_processing_seconds: expected a number"),
        (#"{"faults":[{"api":"ecs.delete_servers","kind":"explode"}],"accounts":[{"name":"a","domain_id":"d","project_ids":["p"],"access_key":"ak","secret_key":"sk"}]}"#,
         "seed file bad.json: at faults[0].kind: must be one of error, timeout, reset, slow, drop_after_apply, job_fail, stale_read"),
    ])
    func errors(seed: String, expected: String) {
        let message = problem(seed)
        #expect(message?.hasPrefix(expected) == true, "\(message ?? "loaded")")
    }

    /// Values that used to crash the simulator, fill its memory, or load and then misbehave.
    @Test("out-of-range values are refused, not crashed on", arguments: [
        (#""secmaster":[{"resource_id":"r","kind":"quota","spec":"standard","charging_mode":"prepaid","paid_amount":1e300}]"#,
         "at accounts[0].secmaster[0].paid_amount: must be at most 100000000"),
        (#""full_refunds_used":100000000"#, "at accounts[0].full_refunds_used: must be between 0 and 1000"),
        (#""full_refunds_used":-1"#, "at accounts[0].full_refunds_used: must be between 0 and 1000"),
        (#""secmaster":[{"resource_id":"r","kind":"quota","spec":"standard","charging_mode":"postpaid","size":-5}]"#,
         "at accounts[0].secmaster[0].size: must be at least 1"),
        (#""secmaster":[{"resource_id":"r","kind":"quota","spec":"standard","charging_mode":"postpaid","size":2.5}]"#,
         "at accounts[0].secmaster[0].size: must be a whole number"),
        (#""full_refunds_used":1.5"#, "at accounts[0].full_refunds_used: must be a whole number"),
        (#""endpoints":[{"id":"e","status":"ACCEPTED"}]"#,
         "at accounts[0].endpoints[0].status: must be one of pendingAcceptance, creating, accepted, rejected, failed"),
        (#""edition":"basic","secmaster":[{"resource_id":"r","kind":"quota","spec":"professional","charging_mode":"postpaid"}]"#,
         "at accounts[0].edition: is BASIC, but the account's asset quotas make it PROFESSIONAL"),
        (#""secmaster":[{"resource_id":"r","kind":"edition","spec":"standard","charging_mode":"postpaid"}]"#,
         "at accounts[0].secmaster[0].kind: 'edition' is not an allowed value"),
    ])
    func outOfRange(fields: String, expected: String) {
        let account = minimal.dropLast() + "," + fields + "}"
        let message = problem(#"{"accounts":[\#(account)]}"#)
        #expect(message?.contains(expected) == true, "\(message ?? "loaded")")
    }

    @Test("settings out of range are refused", arguments: [
        (#"{"order_processing_seconds":-1}"#, "at settings.order_processing_seconds: must be between 0"),
        (#"{"max_skew_seconds":-1}"#, "at settings.max_skew_seconds: must be between 0"),
        (#"{"rate_limits":{"ecs.delete_server":5}}"#, "at settings.rate_limits.ecs.delete_server: unknown API"),
        (#"{"rate_limits":{"default":0}}"#, "at settings.rate_limits.default: must be at least 1"),
        (#"{"rate_limits":{"default":0.5}}"#, "at settings.rate_limits.default: must be a whole number"),
        (#"{"full_refunds_per_year":-1}"#, "at settings.full_refunds_per_year: must be between 0 and 1000"),
        (#"{"full_refund_window_days":-5}"#, "at settings.full_refund_window_days: must be between 0 and 366 days"),
        (#"{"job_purge_seconds":0}"#, "at settings.job_purge_seconds: must be at least 1 second"),
        (#"{"bss_error_status":404.5}"#, "at settings.bss_error_status: must be a whole number"),
    ])
    func settingsOutOfRange(settings: String, expected: String) {
        let message = problem(#"{"settings":\#(settings),"accounts":[\#(minimal)]}"#)
        #expect(message?.contains(expected) == true, "\(message ?? "loaded")")
    }


    @Test("an explicit edition the quotas agree with loads")
    func agreeingEdition() throws {
        let account = minimal.dropLast() + #","edition":"professional","secmaster":[{"resource_id":"r","kind":"quota","spec":"professional","charging_mode":"postpaid"}]}"#
        #expect(try load(#"{"accounts":[\#(account)]}"#).state.accounts[0].edition == "PROFESSIONAL")
    }

    @Test("a missing seed file and a directory are named as such")
    func missingFileAndDirectory() throws {
        let now = Date()
        #expect(throws: SeedError(file: "/nonexistent/seed.json", path: "", problem: "does not exist; give the path of a seed JSON file (deploy/cloudsim/seeds/ has examples)")) {
            try SeedLoader.load(file: "/nonexistent/seed.json", now: now)
        }
        let directory = FileManager.default.temporaryDirectory.path
        #expect(throws: SeedError(file: directory, path: "", problem: "is a directory; give the path of a seed JSON file inside it")) {
            try SeedLoader.load(file: directory, now: now)
        }
    }

    @Test("duplicate access keys are refused")
    func duplicateKeys() {
        let text = #"{"accounts":[\#(minimal),{"name":"b","domain_id":"e","project_ids":["p"],"access_key":"ak","secret_key":"x"}]}"#
        #expect(problem(text) == "seed file bad.json: at accounts[1].access_key: access key ak is used by another account")
    }

    @Test("settings, faults and relative times are applied")
    func applied() throws {
        let text = #"{"settings":{"order_processing_seconds":7,"rate_limits":{"default":5,"ecs.delete_servers":1},"fee_base":"paid","ecs_prepaid_delete":"fail_subjob"},"faults":[{"api":"ecs.*","kind":"error","status":503,"count":2}],"accounts":[{"name":"a","domain_id":"d","project_ids":["p"],"access_key":"ak","secret_key":"sk","secmaster":[{"resource_id":"q","kind":"quota","spec":"professional","charging_mode":"prepaid","purchased":"-3d","term":"2y","paid_amount":12.34}]}]}"#
        let loaded = try load(text)
        #expect(loaded.state.settings.orderProcessingSeconds == 7)
        #expect(loaded.state.settings.rateLimit(for: "ecs.delete_servers") == 1)
        #expect(loaded.state.settings.rateLimit(for: "bss.unsubscribe") == 5)
        #expect(loaded.state.settings.feeBase == .paid)
        #expect(loaded.state.settings.ecsPrepaidDelete == .failSubjob)
        #expect(loaded.faults.count == 1 && loaded.faults[0].remaining == 2)
        let account = loaded.state.accounts[0]
        #expect(account.edition == "PROFESSIONAL")
        let resource = try #require(account.prepaidResources.first)
        #expect(resource.effectiveAt == TestSeed.start.addingTimeInterval(-3 * 86_400))
        #expect(resource.paidCents == 1234)
        #expect(resource.termMonths == 24)
        #expect(account.orders.count == 1)
    }

    @Test("the shipped seed files load", arguments: ["sample.json", "all-kinds.json"])
    func shippedSeeds(file: String) throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../deploy/cloudsim/seeds/\(file)")
        let loaded = try SeedLoader.load(file: url.path, now: Date())
        #expect(!loaded.state.accounts.isEmpty)
    }

    @Test("the generator is deterministic and its output loads")
    func generator() throws {
        let first = SeedGenerator(accounts: 12, randomSeed: 99).generate().prettySerialized()
        let second = SeedGenerator(accounts: 12, randomSeed: 99).generate().prettySerialized()
        let other = SeedGenerator(accounts: 12, randomSeed: 100).generate().prettySerialized()
        #expect(first == second)
        #expect(first != other)
        let loaded = try SeedLoader.load(data: Data(first.utf8), name: "generated", now: Date())
        #expect(loaded.state.accounts.count == 12)
        #expect(loaded.state.accounts.contains { $0.fullRefundTimes.count == 10 })
        #expect(loaded.state.accounts.contains { $0.prepaidResources.contains { $0.unpaidOrderID != nil } })
        #expect(loaded.state.accounts.contains { !$0.servers.isEmpty })
    }
}
