import Foundation

/// Base URLs of the four services.
///
/// Regional services live at `https://{service}.{region}.myhuaweicloud.com`; BSS is global at
/// `https://bss.myhuaweicloud.com` (China site) and can be pointed elsewhere (`https://bss-intl.myhuaweicloud.com`
/// for the international site, `https://bss.myhuaweicloud.eu` for Europe). An `override` replaces *every* service's
/// base URL with one address: that is how `UNWIND_CLOUD_ENDPOINT` points the client at the simulator.
public struct CloudEndpoints: Sendable, Equatable {
    public let region: String
    private let urls: [CloudService: String]
    /// Every service goes to one address (`UNWIND_CLOUD_ENDPOINT`, e.g. the simulator), not to the region's hosts.
    public let isOverridden: Bool

    /// The environment variable / configuration key that sets `override`.
    public static let overrideEnvironmentKey = "UNWIND_CLOUD_ENDPOINT"
    public static let defaultBSSEndpoint = "https://bss.myhuaweicloud.com"

    public init(region: String, override: String? = nil, bssEndpoint: String? = nil) throws(CloudError) {
        guard Self.isValidRegion(region) else {
            throw CloudError.configuration(
                "region '\(region)' is not a Huawei Cloud region id",
                hint: "use a region id such as cn-north-4 or ap-southeast-1 (lower-case letters, digits and '-')"
            )
        }
        self.region = region
        isOverridden = !(override ?? "").isEmpty
        if let override, !override.isEmpty {
            let url = try Self.validate(override, what: "\(Self.overrideEnvironmentKey) (cloud endpoint override)")
            urls = Dictionary(uniqueKeysWithValues: CloudService.allCases.map { ($0, url) })
        } else {
            var built: [CloudService: String] = [:]
            for service in CloudService.allCases where service != .bss {
                built[service] = "https://\(service.rawValue).\(region).myhuaweicloud.com"
            }
            built[.bss] = try Self.validate(bssEndpoint ?? Self.defaultBSSEndpoint, what: "UNWIND_BSS_ENDPOINT (the BSS endpoint)")
            urls = built
        }
    }

    /// Builds the endpoints from `UNWIND_CLOUD_ENDPOINT` (override) and `UNWIND_BSS_ENDPOINT`; a flag or config value
    /// passed by the caller wins over the environment.
    public static func fromEnvironment(
        region: String, override: String? = nil, bssEndpoint: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(CloudError) -> CloudEndpoints {
        try CloudEndpoints(
            region: region,
            override: override ?? environment[overrideEnvironmentKey],
            bssEndpoint: bssEndpoint ?? environment["UNWIND_BSS_ENDPOINT"]
        )
    }

    /// `scheme://host[:port][/prefix]` without a trailing slash.
    public func baseURL(for service: CloudService) -> String {
        // Every case is filled in by the initialiser.
        urls[service] ?? ""
    }

    static func isValidRegion(_ region: String) -> Bool {
        guard !region.isEmpty, region.count <= 64, region.first?.isLetter == true else { return false }
        return region.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }

    /// Accepts `http(s)://host[:port][/path]`, no query, fragment or credentials; strips a trailing `/`.
    static func validate(_ text: String, what: String) throws(CloudError) -> String {
        let hint = "give an absolute URL such as https://bss-intl.myhuaweicloud.com or http://127.0.0.1:9090"
        // Messages quote the URL without its user info, which may hold a password.
        var shown = text
        if let scheme = text.range(of: "://"), let at = text.lastIndex(of: "@"), scheme.upperBound < at {
            shown = String(text[..<scheme.upperBound]) + "***" + String(text[at...])
        }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https"
        else {
            throw CloudError.configuration("\(what) '\(shown)' is not an http(s) URL", hint: hint)
        }
        guard let host = components.host, !host.isEmpty else {
            throw CloudError.configuration("\(what) '\(shown)' has no host", hint: hint)
        }
        guard components.query == nil, components.fragment == nil, components.user == nil, components.password == nil else {
            throw CloudError.configuration("\(what) '\(shown)' must not contain a query, fragment or user info", hint: hint)
        }
        if let port = components.port, !(1...65_535).contains(port) {
            throw CloudError.configuration("\(what) '\(shown)' has an invalid port \(port)", hint: hint)
        }
        var result = text
        while result.hasSuffix("/") { result.removeLast() }
        return result
    }
}
