import AsyncHTTPClient
import Foundation
import NIOSSL

/// How this machine reaches the cloud, from the environment: certificate authorities to trust besides the system's
/// (a corporate TLS-inspecting proxy's, a private endpoint's) and an outbound proxy.
///
/// - `UNWIND_CLOUD_CA_FILE`: a PEM file of CA certificates trusted in addition to the system's.
/// - `HTTPS_PROXY`/`https_proxy` (and `HTTP_PROXY`/`http_proxy` for an `http://` `UNWIND_CLOUD_ENDPOINT`):
///   `http://[user:password@]host:port` (HTTP CONNECT) or `socks5://host:port`. `NO_PROXY`/`no_proxy` (comma
///   separated names, `.suffix`es or `*`) is matched against `UNWIND_CLOUD_ENDPOINT`'s host, or against
///   `myhuaweicloud.com` for the regional endpoints.
public struct CloudTransport: Sendable, Equatable {
    public enum Proxy: Sendable, Equatable {
        case http(host: String, port: Int, user: String?, password: String?)
        case socks5(host: String, port: Int)
    }

    public var caFile: String?
    public var proxy: Proxy?

    public init(caFile: String? = nil, proxy: Proxy? = nil) {
        self.caFile = caFile
        self.proxy = proxy
    }

    /// A setting that cannot be used, with what to do about it.
    public struct SettingError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public static func fromEnvironment(_ environment: [String: String]) throws(SettingError) -> CloudTransport {
        var transport = CloudTransport()
        if let path = environment["UNWIND_CLOUD_CA_FILE"], !path.isEmpty {
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw SettingError(description: "UNWIND_CLOUD_CA_FILE='\(path)' cannot be read; name a PEM file of CA certificates, or unset it")
            }
            do {
                guard !(try NIOSSLCertificate.fromPEMFile(path)).isEmpty else { throw SettingError(description: "") }
            } catch {
                throw SettingError(description: "UNWIND_CLOUD_CA_FILE='\(path)' holds no PEM certificate (-----BEGIN CERTIFICATE-----); name a PEM file of CA certificates")
            }
            transport.caFile = path
        }
        let endpoint = environment["UNWIND_CLOUD_ENDPOINT"].flatMap { $0.isEmpty ? nil : URL(string: $0) }
        let plainHTTP = endpoint?.scheme?.lowercased() == "http"
        let names = plainHTTP ? ["http_proxy", "HTTP_PROXY"] : ["https_proxy", "HTTPS_PROXY"]
        guard let (name, value) = names.lazy.compactMap({ name in environment[name].flatMap { $0.isEmpty ? nil : (name, $0) } }).first else {
            return transport
        }
        let target = endpoint?.host ?? "myhuaweicloud.com"
        if let noProxy = environment["no_proxy"] ?? environment["NO_PROXY"], bypasses(target, noProxy: noProxy) {
            return transport
        }
        transport.proxy = try proxy(named: name, value)
        return transport
    }

    static func bypasses(_ host: String, noProxy: String) -> Bool {
        let host = host.lowercased()
        for entry in noProxy.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) where !entry.isEmpty {
            if entry == "*" { return true }
            let suffix = entry.hasPrefix(".") ? String(entry.dropFirst()) : entry
            if host == suffix || host.hasSuffix("." + suffix) { return true }
        }
        return false
    }

    private static func proxy(named name: String, _ value: String) throws(SettingError) -> Proxy {
        // A bare host:port is taken as http://host:port, as curl does.
        let text = value.contains("://") ? value : "http://" + value
        guard let url = URLComponents(string: text), let host = url.host, !host.isEmpty else {
            throw SettingError(description: "\(name)='\(redacted(value))' is not a proxy URL; write http://host:port (or socks5://host:port), or unset it")
        }
        switch url.scheme?.lowercased() {
        case "http":
            return .http(host: host, port: url.port ?? 80, user: url.user?.removingPercentEncoding,
                         password: url.password?.removingPercentEncoding)
        case "socks5", "socks5h":
            guard let port = url.port else {
                throw SettingError(description: "\(name)='\(redacted(value))' names no port; write socks5://host:port")
            }
            // The SOCKS client underneath speaks only the no-authentication method: dropping the credentials would
            // send every call through a proxy that then refuses it, for a reason no message names.
            guard url.user == nil, url.password == nil else {
                throw SettingError(description: "\(name)='\(redacted(value))': a SOCKS proxy with a user name and password is not supported; use one without authentication, or an http:// proxy (which may take user:password@)")
            }
            return .socks5(host: host, port: port)
        default:
            throw SettingError(description: "\(name)='\(redacted(value))': only http:// and socks5:// proxies are supported (the connection to the cloud is TLS through the proxy either way)")
        }
    }

    /// The proxy URL without its password, for messages. A URL that does not parse (a password with an unencoded
    /// `#`, a blank in it) loses everything between the scheme and the last `@` instead: that is where it would be.
    static func redacted(_ value: String) -> String {
        if var url = URLComponents(string: value.contains("://") ? value : "http://" + value) {
            guard url.password != nil else { return value }
            url.password = "***"
            return url.string ?? "(a proxy URL)"
        }
        guard let at = value.lastIndex(of: "@") else { return value }
        let start = value.range(of: "://").map(\.upperBound) ?? value.startIndex
        guard start <= at else { return "(a proxy URL)" }
        return String(value[..<start]) + "***" + String(value[at...])
    }

    /// Applies the settings to an HTTP client's configuration.
    func apply(to configuration: inout HTTPClient.Configuration) {
        if let caFile {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.additionalTrustRoots = [.file(caFile)]
            configuration.tlsConfiguration = tls
        }
        switch proxy {
        case .http(let host, let port, let user, let password)?:
            let authorization = user.map { HTTPClient.Authorization.basic(username: $0, password: password ?? "") }
            configuration.proxy = .server(host: host, port: port, authorization: authorization)
        case .socks5(let host, let port)?:
            configuration.proxy = .socksServer(host: host, port: port)
        case nil:
            break
        }
    }
}
