/// Rejects unknown keys in a seed, so a misspelt setting (`order_processing_second`) is reported instead of
/// silently falling back to its default.
enum SeedKeyCheck {
    private static let settings: Set<String> = [
        "order_processing_seconds", "order_refund_seconds", "ecs_job_init_seconds", "ecs_job_run_seconds_min",
        "ecs_job_run_seconds_max", "server_linger_seconds", "job_purge_seconds", "expired_retention_days", "vpcep_deleting_seconds",
        "vpcep_delete_status", "max_skew_seconds", "signature_clock", "replay_protection", "full_refund_window_days",
        "full_refunds_per_year", "fee_base", "bss_error_status", "already_unsubscribed_code", "in_flight_code",
        "bss_parameter_error_code", "package_rule_status", "package_rule_code", "secmaster_not_found_code",
        "secmaster_prepaid_code", "ecs_prepaid_delete", "ecs_prepaid_code", "rate_limits", "random_seed", "timeout_cap_seconds",
    ]
    private static let account: Set<String> = [
        "name", "domain_id", "domain_name", "region", "project_ids", "access_key", "secret_key", "auth_token", "security_token", "edition",
        "full_refunds_used", "secmaster", "servers", "endpoints", "workspaces",
    ]
    private static let secmaster: Set<String> = [
        "resource_id", "kind", "spec", "charging_mode", "size", "project_id", "purchased", "term", "paid_amount", "unpaid_order", "auto_renew",
    ]
    private static let server: Set<String> = [
        "id", "name", "charging_mode", "status", "project_id", "vpc_id", "private_ip", "purchased", "term", "paid_amount",
        "unpaid_order", "auto_renew", "public_ips", "data_volumes",
    ]
    private static let publicIP: Set<String> = ["id", "address", "delete_on_termination"]
    private static let endpoint: Set<String> = ["id", "project_id", "service_name", "vpc_id", "subnet_id", "ip", "status", "created"]
    private static let workspace: Set<String> = ["id", "name", "project_id", "nodes"]
    private static let node: Set<String> = ["node_id", "node_name", "private_ip", "vpc_id", "subnet_id", "vpc_endpoint_id", "vpc_endpoint_address"]

    /// The path and name of the first unknown key, if any.
    static func firstUnknownKey(in seed: JSON) -> (path: String, key: String)? {
        if let found = unknown(seed, allowed: ["settings", "faults", "accounts"], path: "") { return found }
        if let settingsObject = seed["settings"], let found = unknown(settingsObject, allowed: settings, path: "settings") { return found }
        for (i, item) in (seed["accounts"]?.arrayValue ?? []).enumerated() {
            let at = "accounts[\(i)]"
            if let found = unknown(item, allowed: account, path: at) { return found }
            if let found = each(item["secmaster"], allowed: secmaster, path: at + ".secmaster") { return found }
            if let found = each(item["servers"], allowed: server, path: at + ".servers") { return found }
            for (s, serverItem) in (item["servers"]?.arrayValue ?? []).enumerated() {
                if let found = each(serverItem["public_ips"], allowed: publicIP, path: "\(at).servers[\(s)].public_ips") { return found }
            }
            if let found = each(item["endpoints"], allowed: endpoint, path: at + ".endpoints") { return found }
            if let found = each(item["workspaces"], allowed: workspace, path: at + ".workspaces") { return found }
            for (w, workspaceItem) in (item["workspaces"]?.arrayValue ?? []).enumerated() {
                if let found = each(workspaceItem["nodes"], allowed: node, path: "\(at).workspaces[\(w)].nodes") { return found }
            }
        }
        return nil
    }

    /// The path of the first whole-number field whose value is a fraction or out of range, if any: Foundation's
    /// decoder reports such a number with no path at all.
    static func firstBadWholeNumber(in seed: JSON) -> String? {
        func bad(_ value: JSON?) -> Bool {
            switch value {
            case .double(let number)?: !(number.rounded() == number && abs(number) < 9.2e18)
            default: false
            }
        }
        for key in ["vpcep_delete_status", "max_skew_seconds", "full_refunds_per_year", "bss_error_status", "package_rule_status", "random_seed"]
        where bad(seed["settings"]?[key]) {
            return "settings.\(key)"
        }
        for (api, limit) in seed["settings"]?["rate_limits"]?.objectValue ?? [] where bad(limit) { return "settings.rate_limits.\(api)" }
        for (i, item) in (seed["accounts"]?.arrayValue ?? []).enumerated() {
            if bad(item["full_refunds_used"]) { return "accounts[\(i)].full_refunds_used" }
            for (r, resource) in (item["secmaster"]?.arrayValue ?? []).enumerated() where bad(resource["size"]) {
                return "accounts[\(i)].secmaster[\(r)].size"
            }
        }
        return nil
    }

    private static func each(_ list: JSON?, allowed: Set<String>, path: String) -> (path: String, key: String)? {
        for (index, item) in (list?.arrayValue ?? []).enumerated() {
            if let found = unknown(item, allowed: allowed, path: "\(path)[\(index)]") { return found }
        }
        return nil
    }

    private static func unknown(_ object: JSON, allowed: Set<String>, path: String) -> (path: String, key: String)? {
        guard let fields = object.objectValue else { return nil }
        return fields.map(\.0).sorted().first { !allowed.contains($0) }.map { (path, $0) }
    }
}
