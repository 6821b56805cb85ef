#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import AsyncHTTPClient
import NIOSSL
import Foundation
import HuaweiCloudSigning
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import UnwindObservability

/// HTTP client for the SecMaster, BSS, ECS and VPCEP APIs the teardown uses.
///
/// - Every request is signed with `SDK-HMAC-SHA256` (the shared `HuaweiSigner`) and bounded by `timeout`, which
///   covers connecting, the response head and the whole body, so a response that never ends is a timeout.
/// - Connections are reused through the `HTTPClient`'s pool (a process-wide one by default; pass a
///   ``CloudConnectionPool`` to size it, and shut it down yourself). Redirects are never followed.
/// - Reads (GET and query calls) that fail transiently — 429, 5xx, a reset or a timeout — are tried again a few
///   times with short, jittered back-off (``ReadRetry``), honouring a short `Retry-After`: a step that makes
///   dozens of reads (an inventory of a large account) must not start over because one of them hit a blip.
/// - Mutating calls are never repeated by the client: each failure becomes one `CloudError` whose `classification`
///   tells the saga engine to retry (with backoff and a durable checkpoint), to treat the step as already done, or
///   to stop for an operator. A long `Retry-After` is handed to the engine too, so that no worker slot sits idle.
public final class HuaweiCloudClient: Sendable {
    public let endpoints: CloudEndpoints
    let signer: RequestSigner
    let httpClient: HTTPClient
    let timeout: Duration
    let readRetry: ReadRetry
    let logger: Logger
    /// Requests by service, operation and status, and their durations.
    let metrics: UnwindMetrics
    /// Seconds since 1970 for `X-Sdk-Date`; replaceable in tests.
    let clock: @Sendable () -> Int64
    /// Secrets scrubbed from every error message (defence in depth).
    let secrets: [String]

    /// Largest response body read; the APIs used here answer a few hundred KiB at most.
    static let maxResponseBytes = 8 * 1024 * 1024
    public static let defaultUserAgent = "unwind-huaweicloud/1.0"

    public convenience init(
        endpoints: CloudEndpoints, credentials: HuaweiCredentials, httpClient: HTTPClient? = nil,
        timeout: Duration = .seconds(30), readRetry: ReadRetry = .standard, logger: Logger,
        metrics: UnwindMetrics = .disabled
    ) {
        self.init(endpoints: endpoints, credentials: credentials, httpClient: httpClient ?? CloudConnectionPool.processWide.httpClient, timeout: timeout, readRetry: readRetry,
                  logger: logger, userAgent: Self.defaultUserAgent, clock: { Int64(Date().timeIntervalSince1970) },
                  metrics: metrics)
    }

    init(
        endpoints: CloudEndpoints, credentials: HuaweiCredentials, httpClient: HTTPClient, timeout: Duration,
        readRetry: ReadRetry = .none, logger: Logger, userAgent: String, clock: @escaping @Sendable () -> Int64,
        metrics: UnwindMetrics = .disabled
    ) {
        self.readRetry = readRetry
        self.metrics = metrics
        self.endpoints = endpoints
        self.signer = RequestSigner(signer: HuaweiSigner(credentials: credentials), userAgent: userAgent, addsNonce: true)
        self.httpClient = httpClient
        self.timeout = timeout
        self.logger = logger
        self.clock = clock
        self.secrets = [credentials.secretKey] + (credentials.securityToken.map { [$0] } ?? [])
    }

    /// How reads are retried inside one call. Mutating calls are never retried by the client.
    public struct ReadRetry: Sendable, Equatable {
        /// Tries in all (1: no retry).
        public var maxAttempts: Int
        public var initialDelay: Duration
        /// The longest wait between tries; a `Retry-After` longer than this ends the call (the engine waits instead).
        public var maxDelay: Duration

        public init(maxAttempts: Int, initialDelay: Duration, maxDelay: Duration) {
            self.maxAttempts = max(1, maxAttempts)
            self.initialDelay = initialDelay
            self.maxDelay = maxDelay
        }

        /// Four tries within about two seconds.
        public static let standard = ReadRetry(maxAttempts: 4, initialDelay: .milliseconds(200), maxDelay: .seconds(2))
        public static let none = ReadRetry(maxAttempts: 1, initialDelay: .zero, maxDelay: .zero)

        /// The wait before the next try, or nil when the server asks for longer than ``maxDelay``.
        func delay(afterAttempt attempt: Int, retryAfter: Duration?) -> Duration? {
            if let retryAfter {
                return retryAfter <= maxDelay ? retryAfter : nil
            }
            let exponential = initialDelay * (1 << min(attempt - 1, 16))
            // Equal jitter: half fixed, half random, so that many callers hit by one blip do not come back together.
            let capped = min(exponential, maxDelay)
            return capped / 2 + capped / 2 * Double.random(in: 0...1)
        }
    }

    // MARK: Sending

    struct Response: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: [UInt8]
        var requestID: String?
    }

    /// Sends one request and returns the successful (2xx, no error body) response, or throws the classified error.
    /// Reads are tried up to ``ReadRetry/maxAttempts`` times while they fail transiently.
    func send(_ request: CloudRequest) async throws(CloudError) -> Response {
        var attempt = 1
        while true {
            do {
                return try await sendUnredacted(request)
            } catch {
                let redacted = error.redacting(secrets)
                logger.debug("cloud request failed", metadata: [
                    "cloud.service": "\(request.service.rawValue)", "cloud.operation": "\(request.operation)",
                    "http.method": "\(request.method)", "http.path": "\(request.path)", "error": "\(redacted)",
                    "attempt": "\(attempt)",
                ])
                guard !request.isMutating, redacted.isRetryable, !redacted.connectionNotEstablished, attempt < readRetry.maxAttempts,
                      let delay = readRetry.delay(afterAttempt: attempt, retryAfter: redacted.retryAfter) else {
                    throw redacted
                }
                do {
                    try await Task.sleep(for: delay)
                } catch {
                    throw redacted  // cancelled (the step timed out or the worker stops): report the last failure
                }
                attempt += 1
            }
        }
    }

    private func sendUnredacted(_ request: CloudRequest) async throws(CloudError) -> Response {
        let prepared = signer.prepare(request, baseURL: endpoints.baseURL(for: request.service), epochSeconds: clock())
        var httpRequest = HTTPClientRequest(url: prepared.url)
        httpRequest.method = HTTPMethod(rawValue: prepared.method)
        for header in prepared.headers { httpRequest.headers.add(name: header.name, value: header.value) }
        if !prepared.body.isEmpty { httpRequest.body = .bytes(ByteBuffer(bytes: prepared.body)) }

        let started = ContinuousClock.now
        let status: Int
        let headers: HTTPHeaders
        let body: [UInt8]
        do {
            let fetched = try await fetchWithin(timeout, httpRequest, logger: transportLogger)
            (status, headers, body) = (fetched.status, fetched.headers, fetched.body)
        } catch {
            recordMetrics(request, status: Self.metricStatus(of: error), since: started)
            throw transportError(error, request: request)
        }
        recordMetrics(request, status: String(status), since: started)
        let requestID = headers.first(name: "X-Request-Id") ?? headers.first(name: "X-Openstack-Request-Id")
        logger.debug("cloud request", metadata: [
            "cloud.service": "\(request.service.rawValue)", "cloud.operation": "\(request.operation)",
            "http.method": "\(request.method)", "http.path": "\(request.path)", "http.status": "\(status)",
            "cloud.request_id": "\(requestID ?? "")", "duration_ms": "\((ContinuousClock.now - started).milliseconds)",
        ])
        let response = Response(status: status, headers: headers, body: body, requestID: requestID)
        try check(response, request: request)
        return response
    }

    /// The logger AsyncHTTPClient gets: ours when its debug lines can be seen, otherwise none. It stamps every
    /// request's id into the logger it is given, and a `StreamLogHandler` renders all its metadata again on each
    /// such change, for lines that a worker logging at `info` or above never writes.
    private var transportLogger: Logger? {
        logger.logLevel <= .debug ? logger : nil
    }

    struct Fetched: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: [UInt8]
    }

    /// Thrown when `timeout` passes before the whole answer (head and body) arrived.
    struct RequestTimedOut: Error {}

    /// Executes the request and collects the body, all within `timeout`.
    ///
    /// AsyncHTTPClient's deadline bounds the wait for the response head, but a body that trickles or stalls is only
    /// bounded by the idle read timeout of the `HTTPClient`'s configuration (which we do not own). Racing the whole
    /// exchange against a sleep, and cancelling the loser, makes "a response that never ends" a timeout too.
    private func fetchWithin(_ timeout: Duration, _ httpRequest: HTTPClientRequest, logger: Logger?) async throws -> Fetched {
        let httpClient = self.httpClient
        return try await withThrowingTaskGroup(of: Fetched?.self) { group in
            group.addTask {
                let response = try await httpClient.execute(httpRequest, deadline: .now() + TimeAmount(timeout), logger: logger)
                let body = try await response.body.collect(upTo: Self.maxResponseBytes)
                return Fetched(status: Int(response.status.code), headers: response.headers, body: Array(body.readableBytesView))
            }
            group.addTask {
                // A little later than the client's own deadline, so that its more precise error (connection
                // refused, deadline before the head) wins when it has one.
                try await Task.sleep(for: timeout + .milliseconds(250))
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let fetched = first else { throw RequestTimedOut() }
            return fetched
        }
    }

    /// Turns an error answer — including BSS's "HTTP 200 with an error body" — into a `CloudError`.
    func check(_ response: Response, request: CloudRequest) throws(CloudError) {
        let status = response.status
        let retryAfter = Self.retryAfter(response.headers.first(name: "Retry-After"))
        func error(code: String?, message: String) -> CloudError {
            let (classification, hint) = ErrorClassifier.classify(service: request.service, kind: request.kind, httpStatus: status, code: code, retryAfter: retryAfter)
            return CloudError(service: request.service, operation: request.operation, httpStatus: status, code: code,
                              message: message, requestID: response.requestID, classification: classification, hint: hint)
        }
        switch status {
        case 200..<300:
            if let body = ErrorBody.parseTopLevel(response.body), let code = body.code, !ErrorBody.successCodes.contains(code) {
                throw error(code: code, message: ErrorBody.clean(body.message ?? "(no message)", limit: 500) + " (sent with HTTP \(status))")
            }
        case 400..<600:
            if let body = ErrorBody.parse(response.body) {
                throw error(code: body.code, message: ErrorBody.clean(body.message ?? "(no message)", limit: 500))
            }
            let summary = ErrorBody.summary(response.body, contentType: response.headers.first(name: "Content-Type"))
            var failure = error(code: nil, message: "HTTP \(status) without a Huawei Cloud error body: \(summary)")
            if failure.classification == .permanent {
                failure.hint = "the answer did not come from the Huawei Cloud API (a proxy or load balancer?): check the region and UNWIND_CLOUD_ENDPOINT. " + (failure.hint ?? "")
            }
            throw failure
        case 300..<400:
            throw CloudError(service: request.service, operation: request.operation, httpStatus: status,
                             message: "unexpected redirect (HTTP \(status)) to '\(ErrorBody.clean(response.headers.first(name: "Location") ?? "", limit: 200))'",
                             requestID: response.requestID, classification: .permanent,
                             hint: "the Huawei Cloud APIs never redirect: check the region and UNWIND_CLOUD_ENDPOINT")
        default:
            throw CloudError(service: request.service, operation: request.operation, httpStatus: status,
                             message: "unknown HTTP status \(status)", requestID: response.requestID,
                             classification: .retryable(retryAfter: retryAfter),
                             hint: "the answer is not a valid HTTP result; trying again may help")
        }
    }

    /// Transport failures: timeouts, resets, refused connections. The outcome of a change is then unknown.
    func transportError(_ error: any Error, request: CloudRequest) -> CloudError {
        let seconds = CloudError.seconds(timeout)
        let unknownOutcome = request.isMutating
            ? "; the change may or may not have been applied, so the step re-reads the resource before repeating it (deletes are idempotent by outcome)"
            : ""
        var message: String
        var classification: CloudError.Classification = .retryable(retryAfter: nil)
        var hint: String?
        switch error {
        case is RequestTimedOut:
            message = "no complete answer within \(seconds) (timeout)"
            hint = "the cloud or the network is slow, or the answer never ended" + unknownOutcome
        case let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .writeTimeout:
            message = "no complete answer within \(seconds) (timeout)"
            hint = "the cloud or the network is slow" + unknownOutcome
        case let error as HTTPClientError where error == .connectTimeout:
            message = "could not connect within \(seconds) (connect timeout)"
            hint = "check network access to \(endpoints.baseURL(for: request.service))"
        case let error as HTTPClientError where error == .remoteConnectionClosed:
            message = "the connection was closed before a complete answer arrived (truncated response or reset)"
            hint = "a transient network failure" + unknownOutcome
        case let error as HTTPClientError where error == .cancelled:
            message = "the request was cancelled"
            hint = "the worker is stopping" + unknownOutcome
        case let error as HTTPClientError where error == .invalidURL || error == .emptyHost || error == .emptyScheme:
            message = "the request URL is invalid (\(error))"
            classification = .permanent
            hint = "check the region and UNWIND_CLOUD_ENDPOINT"
        case let error as HTTPParserError:
            message = "the answer is not valid HTTP or ended early (\(error))"
            hint = "a truncated answer or a broken proxy" + unknownOutcome
        case is NIOTooManyBytesError:
            message = "the answer is larger than \(Self.maxResponseBytes) bytes"
            classification = .permanent
            hint = "the answer cannot be a Huawei Cloud API response: check UNWIND_CLOUD_ENDPOINT"
        case is CancellationError:
            message = "the request was cancelled"
            hint = "the worker is stopping" + unknownOutcome
        case let error as IOError where error.errnoCode == ECONNREFUSED:
            message = "connection refused by \(endpoints.baseURL(for: request.service))"
            hint = "nothing accepts connections there: check UNWIND_CLOUD_ENDPOINT and network access; it is tried again"
        case let error as IOError where error.errnoCode == ECONNRESET || error.errnoCode == EPIPE:
            message = "the connection was reset before a complete answer arrived"
            hint = "a transient network failure" + unknownOutcome
        case let error as IOError:
            message = "network error: \(error.description)"
            hint = "a transient network failure" + unknownOutcome
        case let error as NIOConnectionError where error.connectionErrors.isEmpty && (error.dnsAError != nil || error.dnsAAAAError != nil):
            // The name did not resolve: most often a mistyped region (each region has its own host names).
            message = "the host name \(error.host) does not resolve (DNS)"
            hint = endpoints.isOverridden
                ? "check UNWIND_CLOUD_ENDPOINT and this machine's DNS; it is tried again"
                : "check the region id '\(endpoints.region)' (e.g. cn-north-4, ap-southeast-1) and this machine's DNS; it is tried again"
        case let error as NIOConnectionError:
            message = "could not connect to \(endpoints.baseURL(for: request.service)) (\(error.host):\(error.port))"
            hint = "check network access and UNWIND_CLOUD_ENDPOINT; it is tried again"
        case let error as NIOSSLError where Self.isHandshakeFailure(error):
            // Nothing was sent: the TLS handshake failed. An untrusted certificate will be untrusted next time too.
            let untrusted = String(describing: error).contains("CERTIFICATE_VERIFY_FAILED")
            message = untrusted
                ? "the TLS certificate of \(endpoints.baseURL(for: request.service)) is not trusted (\(error))"
                : "the TLS handshake with \(endpoints.baseURL(for: request.service)) failed (\(error))"
            if untrusted {
                classification = .permanent
                hint = "a TLS-inspecting proxy or a private endpoint signs with its own CA: set UNWIND_CLOUD_CA_FILE to that CA's PEM file (or check UNWIND_CLOUD_ENDPOINT)"
            } else {
                hint = "check UNWIND_CLOUD_ENDPOINT, HTTPS_PROXY and the network; it is tried again"
            }
        case let error as NIOSSLExtraError:
            // The certificate names another host (NIOSSL checks the name after the handshake, before any request).
            message = "the TLS certificate of \(endpoints.baseURL(for: request.service)) is not valid for this host (\(error))"
            classification = .permanent
            hint = "check UNWIND_CLOUD_ENDPOINT (the host must be one the certificate names)"
        default:
            message = "network error: \(String(describing: error))"
            hint = "a transient network failure" + unknownOutcome
        }
        var cloudError = CloudError(service: request.service, operation: request.operation, message: message, classification: classification, hint: hint)
        switch error {
        case is NIOConnectionError: cloudError.connectionNotEstablished = true
        case let error as NIOSSLError where Self.isHandshakeFailure(error): cloudError.connectionNotEstablished = true
        case is NIOSSLExtraError: cloudError.connectionNotEstablished = true
        case let error as HTTPClientError where error == .connectTimeout: cloudError.connectionNotEstablished = true
        case let error as IOError where error.errnoCode == ECONNREFUSED: cloudError.connectionNotEstablished = true
        default: break
        }
        return cloudError
    }

    /// A failure of the TLS handshake itself, before any request went out (an unclean shutdown, say, can come after).
    static func isHandshakeFailure(_ error: NIOSSLError) -> Bool {
        if case .handshakeFailed = error { return true }
        return false
    }

    /// `Retry-After` as delta-seconds or an HTTP date, at most ``longestRetryAfter``; `nil` when absent or
    /// unreadable.
    static func retryAfter(_ value: String?) -> Duration? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        let longest = Int(longestRetryAfter.components.seconds)
        if let seconds = Int(value) { return .seconds(min(max(0, seconds), longest)) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        let seconds = date.timeIntervalSinceNow.rounded(.up)
        return .seconds(seconds.isFinite ? Int(min(max(0, seconds), Double(longest))) : longest)
    }

    /// Huawei Cloud's throttling windows are seconds to minutes: a longer `Retry-After` (a proxy's, a bug's) is
    /// cut to an hour, after which the call is simply tried again.
    public static let longestRetryAfter = Duration.seconds(3600)
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

extension Duration {
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}

extension HuaweiCloudClient: CustomStringConvertible, CustomReflectable {
    public var description: String {
        "HuaweiCloudClient(region: \(endpoints.region), accessKey: \(signer.signer.credentials.accessKey), timeout: \(CloudError.seconds(timeout)))"
    }

    /// `dump()` and debuggers must not reach the signer's secret key or the scrub list.
    public var customMirror: Mirror {
        Mirror(self, children: ["endpoints": endpoints, "accessKey": signer.signer.credentials.accessKey, "timeout": timeout])
    }
}
