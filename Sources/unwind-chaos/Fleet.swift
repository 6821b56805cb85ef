import Foundation

/// The accounts of a generated simulator seed, as far as the invariants need them.
struct SeededAccount {
    var name: String
    var kind: String
    var domainID: String
    var projectID: String
    var region: String
    var accessKey: String
    var secretKey: String
    var quotas: Set<String> = []
    /// Auto-renew of each quota as seeded: a compensated teardown must leave it exactly so.
    var seededAutoRenew: [String: Bool] = [:]
    var packages: Set<String> = []
    var servers: Set<String> = []
    var endpoints: Set<String> = []

    /// What the teardown of this kind of account must end in, and with which error code.
    var expectation: (state: String, errorCode: String?) {
        kind == "unpaid-order" ? ("compensated", "CBC.30050010") : ("succeeded", nil)
    }
}

enum Fleet {
    /// Generates the seed with the simulator's own generator, then tunes its settings for the run.
    static func generateSeed(simulator: String, accounts: Int, randomSeed: UInt64, path: String) throws -> [SeededAccount] {
        let (status, output) = try runToCompletion(
            simulator, ["generate-seed", "--accounts", "\(accounts)", "--random-seed", "\(randomSeed)", "--output", path],
            environment: ProcessInfo.processInfo.environment)
        guard status == 0 else { throw ChaosError("generate-seed failed: \(output)") }
        guard var seed = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any] else {
            throw ChaosError("the generated seed is not a JSON object")
        }
        var settings = seed["settings"] as? [String: Any] ?? [:]
        // A held ("timeout") request is released after a few seconds so that hundreds of them do not pile up.
        settings["timeout_cap_seconds"] = 4
        seed["settings"] = settings
        try JSONSerialization.data(withJSONObject: seed).write(to: URL(fileURLWithPath: path))

        return (seed["accounts"] as? [[String: Any]] ?? []).map { account in
            let name = account["name"] as? String ?? ""
            let kind = name.split(separator: "-", maxSplits: 2).dropFirst(2).first.map(String.init) ?? name
            var seeded = SeededAccount(
                name: name, kind: kind, domainID: account["domain_id"] as? String ?? "",
                projectID: (account["project_ids"] as? [String])?.first ?? "", region: account["region"] as? String ?? "cn-north-4",
                accessKey: account["access_key"] as? String ?? "", secretKey: account["secret_key"] as? String ?? "")
            for resource in account["secmaster"] as? [[String: Any]] ?? [] {
                guard let id = resource["resource_id"] as? String else { continue }
                if resource["kind"] as? String == "quota" {
                    seeded.quotas.insert(id)
                    seeded.seededAutoRenew[id] = resource["auto_renew"] as? Bool ?? false
                } else {
                    seeded.packages.insert(id)
                }
            }
            seeded.servers = Set((account["servers"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String })
            seeded.endpoints = Set((account["endpoints"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String })
            return seeded
        }
    }

    /// The credentials file (INI, one profile per account, mode 0600) the workers read keys from.
    static func writeCredentials(_ accounts: [SeededAccount], path: String) throws {
        let text = accounts.map { "[\($0.name)]\nak = \($0.accessKey)\nsk = \($0.secretKey)\n" }.joined(separator: "\n")
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ChaosError("cannot write \(path)")
        }
    }

    /// One teardown per account, as an operator would submit them.
    static func writeFleetFile(_ accounts: [SeededAccount], path: String) throws {
        let lines = try accounts.map { account -> String in
            let row: [String: Any] = [
                "domain_id": account.domainID, "project_id": account.projectID, "region": account.region, "profile": account.name,
            ]
            return String(decoding: try JSONSerialization.data(withJSONObject: row, options: [.sortedKeys]), as: UTF8.self)
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }
}
