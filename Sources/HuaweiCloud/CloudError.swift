import Foundation

/// Every failure of the cloud client: one typed error with what the cloud said and what to do about it.
///
/// The saga engine branches on `classification` only: `.retryable` steps are retried with backoff (never inside
/// the client), `.alreadyDone` steps count as succeeded (deletes are "idempotent by outcome"), `.permanent` steps stop
/// the workflow for an operator, who reads `description` (which includes `hint`).
///
/// No field ever holds a secret key or a security token: messages are built from the cloud's answer and the client's
/// own text, and `HuaweiCloudClient` additionally scrubs the credentials' secrets out of every message it builds.
public struct CloudError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Classification: Sendable, Equatable {
        /// Try again later; `retryAfter` is the cloud's `Retry-After` (or the documented minimum for throttling).
        case retryable(retryAfter: Duration?)
        /// The goal of the call is already reached (the resource is gone or already unsubscribed).
        case alreadyDone
        /// Retrying will not help; an operator must act (see `hint`).
        case permanent
    }

    /// `nil` for failures before any service was chosen (configuration, credentials).
    public var service: CloudService?
    /// What was being done, e.g. `bss.unsubscribe` or `load credentials`.
    public var operation: String
    public var httpStatus: Int?
    /// The cloud's error code (`CBC.30050010`, `APIGW.0308`, `Ecs.0114`, …), when it sent one.
    public var code: String?
    public var message: String
    /// `X-Request-Id` of the response, for Huawei support tickets.
    public var requestID: String?
    public var classification: Classification
    /// What the operator should do.
    public var hint: String?
    /// No connection could be made (the name did not resolve, nothing listened, the connect timed out).
    /// AsyncHTTPClient has then already tried again until its connect timeout, so the client's own quick read
    /// retries would only multiply that wait; the caller's retries (the step's back-off) still apply.
    public var connectionNotEstablished = false

    public init(
        service: CloudService?, operation: String, httpStatus: Int? = nil, code: String? = nil, message: String,
        requestID: String? = nil, classification: Classification, hint: String? = nil
    ) {
        self.service = service
        self.operation = operation
        self.httpStatus = httpStatus
        self.code = code
        self.message = message
        self.requestID = requestID
        self.classification = classification
        self.hint = hint
    }

    public var isRetryable: Bool {
        if case .retryable = classification { return true }
        return false
    }

    public var retryAfter: Duration? {
        if case .retryable(let after) = classification { return after }
        return nil
    }

    public var description: String {
        var text = service.map { "\($0.displayName) \(operation)" } ?? operation
        text += " failed"
        var answer: [String] = []
        if let httpStatus { answer.append("HTTP \(httpStatus)") }
        if let code { answer.append(code) }
        text += answer.isEmpty ? ": " : " (\(answer.joined(separator: " "))): "
        text += message
        if let requestID { text += " [request id \(requestID)]" }
        switch classification {
        case .retryable(let after):
            text += after.map { " — retryable after \(Self.seconds($0))" } ?? " — retryable"
        case .alreadyDone: text += " — already done"
        case .permanent: text += " — permanent"
        }
        if let hint { text += ". \(hint)" }
        return text
    }

    static func seconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        if attoseconds == 0 { return "\(seconds) s" }
        let milliseconds = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        return "\(milliseconds) ms"
    }

    /// Misconfiguration found before any request (endpoints, profile names): always permanent.
    static func configuration(_ message: String, hint: String?) -> CloudError {
        CloudError(service: nil, operation: "configure cloud client", message: message, classification: .permanent, hint: hint)
    }

    /// Returns a copy with every occurrence of the given secrets replaced (defence in depth: a cloud or transport
    /// message should never echo a secret, but if one ever does it must not reach a log line).
    func redacting(_ secrets: [String]) -> CloudError {
        var copy = self
        for secret in secrets where secret.count >= 4 {
            copy.message = Self.scrub(copy.message, secret: secret)
            copy.hint = copy.hint.map { Self.scrub($0, secret: secret) }
            copy.code = copy.code.map { Self.scrub($0, secret: secret) }
        }
        return copy
    }

    /// Replaces `secret` in `text`, and any run of 12 or more of its characters: messages quoting an answer are cut
    /// short (at 160 or 500 characters) before they get here, and a temporary security token, over a kilobyte
    /// long, echoed by the server survived the cut only in part, and so escaped an exact match.
    static func scrub(_ text: String, secret: String) -> String {
        var text = text.replacingOccurrences(of: secret, with: "<redacted>")
        let fragment = 12
        let secretCharacters = Array(secret)
        guard secretCharacters.count > fragment else { return text }
        let characters = Array(text)
        guard characters.count >= fragment else { return text }
        // Every 12-character window of the secret, looked up for every window of the text: linear in both, where
        // comparing every pair of positions cost millions of steps for a long token in a 429 storm.
        let windows = Set((0...(secretCharacters.count - fragment)).map { String(secretCharacters[$0..<($0 + fragment)]) })
        var covered = [Bool](repeating: false, count: characters.count)
        for start in 0...(characters.count - fragment) where windows.contains(String(characters[start..<(start + fragment)])) {
            for index in start..<(start + fragment) { covered[index] = true }
        }
        guard covered.contains(true) else { return text }
        var result: [Character] = []
        var index = 0
        while index < characters.count {
            if covered[index] {
                result.append(contentsOf: "<redacted>")
                while index < characters.count && covered[index] { index += 1 }
            } else {
                result.append(characters[index])
                index += 1
            }
        }
        return String(result)
    }
}
