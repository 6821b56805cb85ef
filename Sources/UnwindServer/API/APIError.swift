import Foundation
import HTTPTypes
import Hummingbird
import Postgres
import UnwindCore
import UnwindEngine
import UnwindStore

/// An error answer: `{"error": {"code": …, "message": …, "details": […]}}`. The message says what is wrong and
/// how to fix it; `code` is stable for programs.
public struct APIError: Error, Sendable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var details: [String]
    var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, details: [String] = []) {
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = [:]
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    static func badRequest(_ message: String, code: String = "bad_request", details: [String] = []) -> APIError {
        APIError(.badRequest, code, message, details: details)
    }

    static func notFound(_ message: String) -> APIError {
        APIError(.notFound, "not_found", message)
    }

    /// Missing or wrong token. Says which, never echoes what was sent.
    static func unauthorized(_ message: String, invalidToken: Bool) -> APIError {
        var error = APIError(.unauthorized, "unauthorized", message)
        error.headers[.wwwAuthenticate] = invalidToken ? #"Bearer realm="unwind", error="invalid_token""# : #"Bearer realm="unwind""#
        return error
    }

    /// Maps what the store, the engine and the definitions throw onto HTTP answers.
    static func from(_ error: any Error) -> APIError? {
        switch error {
        case let error as APIError:
            return error
        case let error as StoreError:
            switch error {
            case .workflowNotFound:
                return .notFound(error.description.replacingOccurrences(of: "list workflows with: unwind list", with: "list workflows with GET /api/v1/workflows"))
            case .malformedWorkflowID, .ambiguousWorkflowID:
                return .badRequest(error.description, code: "malformed_id")
            case .refused(let reason):
                // The state machine words its refusals for the CLI; an API client sets body fields instead.
                let forAPI = reason
                    .replacingOccurrences(of: "use --force to", with: "send {\"force\": true} to")
                    .replacingOccurrences(of: "cancel with --force", with: "cancel with {\"force\": true}")
                    .replacingOccurrences(of: "--from does not apply", with: "\"from_step\" does not apply")
                return APIError(.conflict, "refused", forAPI)
            case .stepNotFound(let reason):
                return .notFound(reason)
            case .idempotencyKeyReused:
                return APIError(.conflict, "idempotency_key_reused", error.description)
            case .concurrencyKeyHeld:
                return APIError(.conflict, "concurrency_key_held", error.description)
            case .corruptRow:
                return nil
            }
        case let error as InputValidationError:
            return .badRequest(error.description, code: "invalid_input", details: error.problems)
        case let error as AcknowledgementRequired:
            return APIError(
                .unprocessableContent, "acknowledgement_required",
                "the plan of \(error.workflow) needs acknowledging; nothing was submitted. Add to \"accept\": "
                    + error.missing.map { "\"\($0.flag)\" (\($0.reason))" }.joined(separator: ", "),
                details: error.missing.map(\.flag))
        case let error as PlanError:
            // A throttled or briefly failing cloud: 503 with when to come back; anything else the cloud said: 502.
            guard error.isTransient else { return APIError(.badGateway, "plan_failed", error.description) }
            var unavailable = APIError(.serviceUnavailable, "plan_failed", error.description)
            let seconds = min(max(error.retryAfter ?? 30, 1), 3600)  // also keeps a NaN or huge value from trapping `Int`
            unavailable.headers[.retryAfter] = String(Int(seconds.isFinite ? seconds.rounded(.up) : 30))
            return unavailable
        case let error as PostgresError where error.code == .invalidParameter:
            // A value the database cannot hold (a NUL character in a reason, a label, a filter): the client's input.
            return .badRequest("a value in the request holds a NUL character (\\u0000), which cannot be stored or searched for; remove it", code: "invalid_value")
        case let error as PostgresError where error.code == .poolExhausted:
            return APIError(.serviceUnavailable, "database_busy", "every database connection of the server is in use; try again shortly (or start unwind serve with more --connections)")
        case let error as PostgresError where error.isConnectionLost || error.code == .invalidConfiguration:
            return APIError(.serviceUnavailable, "database_unavailable", "the database cannot be reached; try again shortly (GET /readyz shows why)")
        default:
            return nil
        }
    }
}

extension APIError {
    struct Body: Encodable {
        struct Content: Encodable {
            var code: String
            var message: String
            var details: [String]?
        }
        var error: Content
    }

    var response: Response {
        var response = JSONResponse.make(
            Body(error: .init(code: code, message: message, details: details.isEmpty ? nil : details)), status: status)
        for field in headers { response.headers.append(field) }
        return response
    }
}
