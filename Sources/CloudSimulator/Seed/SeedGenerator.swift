/// Generates a fleet of accounts as seed JSON, deterministically from a random seed.
///
/// Accounts cycle through the kinds of `all-kinds.json` (prepaid standard inside/outside the five-day window,
/// pay-per-use professional with packages, collection nodes on both billing modes, refunds used up, unpaid
/// order) with randomised amounts, sizes and node counts, so a fleet rehearsal covers every path.
public struct SeedGenerator: Sendable {
    public var accounts: Int
    public var randomSeed: UInt64

    public init(accounts: Int, randomSeed: UInt64) {
        self.accounts = accounts
        self.randomSeed = randomSeed
    }

    public static let kinds = ["prepaid-standard-fresh", "prepaid-standard-old", "postpaid-professional", "collection-nodes", "refunds-used-up", "unpaid-order"]

    public func generate() -> JSON {
        var rng = SplitMix64(seed: randomSeed)
        var list: [JSON] = []
        for index in 0..<accounts {
            list.append(account(index: index, kind: Self.kinds[index % Self.kinds.count], rng: &rng))
        }
        return [
            "settings": ["random_seed": .int(Int64(randomSeed & 0x7FFF_FFFF_FFFF_FFFF))],
            "accounts": .array(list),
        ]
    }

    private func account(index: Int, kind: String, rng: inout SplitMix64) -> JSON {
        let number = String(index + 1).leftPadded(to: 4)
        let project = rng.hexID(32)
        func amount(_ low: Int, _ high: Int) -> JSON { .double(Double(low + Int(rng.next() % UInt64(high - low + 1)))) }
        var secmaster: [JSON] = []
        var servers: [JSON] = []
        var endpoints: [JSON] = []
        var nodes: [JSON] = []
        var extra: [(String, JSON)] = []
        switch kind {
        case "prepaid-standard-fresh", "prepaid-standard-old", "refunds-used-up", "unpaid-order":
            let purchased: JSON = kind == "prepaid-standard-fresh" || kind == "refunds-used-up" ? "-2d" : "-200d"
            secmaster.append(["resource_id": .string("sm-quota-\(number)"), "kind": "quota", "spec": "standard", "charging_mode": "prepaid",
                              "size": .int(Int64(10 + rng.next() % 90)), "purchased": purchased, "term": "1y", "paid_amount": amount(500, 5000),
                              "unpaid_order": .bool(kind == "unpaid-order")])
            secmaster.append(["resource_id": .string("sm-pkg-\(number)"), "kind": "package", "spec": "log_analysis", "charging_mode": "prepaid",
                              "purchased": purchased, "term": "1y", "paid_amount": amount(100, 1000)])
            if kind == "refunds-used-up" { extra.append(("full_refunds_used", 10)) }
        case "postpaid-professional":
            secmaster.append(["resource_id": .string("sm-pro-\(number)"), "kind": "quota", "spec": "professional", "charging_mode": "postpaid", "size": .int(Int64(10 + rng.next() % 90))])
            for package in ["log_collection", "soar"] {
                secmaster.append(["resource_id": .string("sm-\(package)-\(number)"), "kind": "package", "spec": .string(package), "charging_mode": "postpaid"])
            }
        default:
            secmaster.append(["resource_id": .string("sm-pro-\(number)"), "kind": "quota", "spec": "professional", "charging_mode": "postpaid"])
            let count = 2 + Int(rng.next() % 3)
            for n in 0..<count {
                let server = rng.uuid(), endpoint = rng.uuid()
                let prepaid = n % 2 == 1
                var entry: [(String, JSON)] = [("id", .string(server)), ("name", .string("collector-\(number)-\(n)")),
                                               ("charging_mode", prepaid ? "prepaid" : "postpaid"), ("vpc_id", "vpc-collect"),
                                               ("private_ip", .string("192.168.10.\(10 + n)"))]
                if prepaid { entry += [("purchased", "-10d"), ("term", "1m"), ("paid_amount", amount(50, 300))] }
                servers.append(.object(entry))
                endpoints.append(["id": .string(endpoint), "vpc_id": "vpc-collect", "service_name": "cn-north-4.secmaster.collector"])
                nodes.append(["node_id": .string(rng.uuid()), "node_name": .string("collector-\(number)-\(n)"), "private_ip": .string("192.168.10.\(10 + n)"),
                              "vpc_id": "vpc-collect", "vpc_endpoint_id": .string(endpoint)])
            }
        }
        var fields: [(String, JSON)] = [
            ("name", .string("fleet-\(number)-\(kind)")),
            ("domain_id", .string(rng.hexID(32))),
            ("region", "cn-north-4"),
            ("project_ids", [.string(project)]),
            ("access_key", .string("AK" + rng.hexID(18).uppercased())),
            ("secret_key", .string(rng.hexID(40))),
            ("secmaster", .array(secmaster)),
        ]
        fields += extra
        if !servers.isEmpty {
            fields += [("servers", .array(servers)), ("endpoints", .array(endpoints)),
                       ("workspaces", [["id": .string(rng.hexID(32)), "name": "default", "nodes": .array(nodes)]])]
        }
        return .object(fields)
    }
}
