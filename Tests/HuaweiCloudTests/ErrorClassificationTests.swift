@testable import HuaweiCloud
import Testing

/// The classification table, code by code, without HTTP.
@Suite("Error classification")
struct ErrorClassificationTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var service: CloudService
        var kind: ErrorClassifier.Kind
        var status: Int
        var code: String?
        var expected: CloudError.Classification
        var testDescription: String { "\(service.rawValue) \(kind) \(status) \(code ?? "-")" }
    }

    static let cases: [Case] = [
        // Retryable
        Case(service: .ecs, kind: .read, status: 500, code: "Ecs.0002", expected: .retryable(retryAfter: nil)),
        Case(service: .vpcep, kind: .delete, status: 503, code: nil, expected: .retryable(retryAfter: nil)),
        Case(service: .bss, kind: .read, status: 502, code: nil, expected: .retryable(retryAfter: nil)),
        Case(service: .secmaster, kind: .read, status: 429, code: "APIGW.0308", expected: .retryable(retryAfter: .seconds(5))),
        Case(service: .bss, kind: .change, status: 400, code: "CBC.99003651", expected: .retryable(retryAfter: nil)),
        Case(service: .bss, kind: .change, status: 400, code: "CBC.30050011", expected: .retryable(retryAfter: nil)),
        Case(service: .bss, kind: .change, status: 200, code: "CBC.30050011", expected: .retryable(retryAfter: nil)),
        Case(service: .bss, kind: .change, status: 200, code: "CBC.3144", expected: .retryable(retryAfter: nil)),
        Case(service: .vpcep, kind: .read, status: 500, code: "EndPoint.0001", expected: .retryable(retryAfter: nil)),
        Case(service: .ecs, kind: .delete, status: 409, code: nil, expected: .retryable(retryAfter: nil)),
        // Already done
        Case(service: .bss, kind: .change, status: 400, code: "CBC.30000067", expected: .alreadyDone),
        Case(service: .bss, kind: .change, status: 200, code: "CBC.3124", expected: .alreadyDone),
        Case(service: .ecs, kind: .delete, status: 404, code: "Ecs.0114", expected: .alreadyDone),
        Case(service: .vpcep, kind: .delete, status: 404, code: "EndPoint.0005", expected: .alreadyDone),
        Case(service: .secmaster, kind: .delete, status: 404, code: "SecMaster.20010001", expected: .alreadyDone),
        // A 404 without SecMaster's own error body (a proxy's page) says nothing about the resources.
        Case(service: .secmaster, kind: .delete, status: 404, code: nil, expected: .permanent),
        // Permanent
        Case(service: .ecs, kind: .read, status: 404, code: "Ecs.0114", expected: .permanent),
        Case(service: .vpcep, kind: .read, status: 404, code: "EndPoint.0005", expected: .permanent),
        Case(service: .secmaster, kind: .delete, status: 404, code: "APIGW.0101", expected: .permanent),
        Case(service: .secmaster, kind: .read, status: 404, code: "SecMaster.20010001", expected: .permanent),
        Case(service: .bss, kind: .change, status: 400, code: "CBC.30050010", expected: .permanent),
        Case(service: .bss, kind: .change, status: 200, code: "CBC.30050009", expected: .permanent),
        Case(service: .bss, kind: .change, status: 400, code: "CBC.99003652", expected: .permanent),
        Case(service: .bss, kind: .read, status: 403, code: "CBC.0150", expected: .permanent),
        Case(service: .ecs, kind: .read, status: 401, code: "APIGW.0301", expected: .permanent),
        Case(service: .ecs, kind: .read, status: 403, code: "APIGW.0302", expected: .permanent),
        Case(service: .vpcep, kind: .read, status: 400, code: "EndPoint.0002", expected: .permanent),
        Case(service: .ecs, kind: .delete, status: 400, code: "Ecs.0000", expected: .permanent),
        Case(service: .secmaster, kind: .read, status: 501, code: nil, expected: .permanent),
    ]

    @Test(arguments: cases)
    func classifies(_ c: Case) {
        let (classification, hint) = ErrorClassifier.classify(service: c.service, kind: c.kind, httpStatus: c.status, code: c.code, retryAfter: nil)
        #expect(classification == c.expected)
        if classification == .permanent {
            #expect(hint?.isEmpty == false, "a permanent error must tell the operator what to do")
        }
    }

    @Test func retryAfterFromTheCloudWins() {
        let (classification, _) = ErrorClassifier.classify(service: .bss, kind: .read, httpStatus: 429, code: "APIGW.0308", retryAfter: .seconds(17))
        #expect(classification == .retryable(retryAfter: .seconds(17)))
    }

    @Test func unpaidOrderHintSaysWhatToDo() {
        let hint = ErrorClassifier.permanentHint(service: .bss, httpStatus: 400, code: "CBC.30050010", isGateway: false)
        #expect(hint.contains("pay or cancel"))
    }

    @Test func retryAfterHeaderParsing() {
        #expect(HuaweiCloudClient.retryAfter("7") == .seconds(7))
        #expect(HuaweiCloudClient.retryAfter(" 0 ") == .seconds(0))
        #expect(HuaweiCloudClient.retryAfter("soon") == nil)
        #expect(HuaweiCloudClient.retryAfter(nil) == nil)
        // An HTTP date in the past means "now".
        #expect(HuaweiCloudClient.retryAfter("Wed, 21 Oct 2015 07:28:00 GMT") == .seconds(0))
        // Absurd waits (a proxy's, a bug's) are cut to an hour: unbounded, one crashed the worker writing its due time.
        #expect(HuaweiCloudClient.retryAfter("10000000000000") == .seconds(3600))
        #expect(HuaweiCloudClient.retryAfter("Fri, 31 Dec 9999 23:59:59 GMT") == .seconds(3600))
    }

    @Test func errorBodyShapes() {
        #expect(ErrorBody.parse(Array(#"{"error_code":"CBC.3124","error_msg":"done"}"#.utf8)) == ErrorBody(code: "CBC.3124", message: "done"))
        #expect(ErrorBody.parse(Array(#"{"error":{"code":"Ecs.0114","message":"gone"}}"#.utf8)) == ErrorBody(code: "Ecs.0114", message: "gone"))
        #expect(ErrorBody.parse(Array(#"{"code":"SecMaster.1","message":"m"}"#.utf8)) == ErrorBody(code: "SecMaster.1", message: "m"))
        #expect(ErrorBody.parse(Array(#"{"error_code":"X","error_message":"alt"}"#.utf8)) == ErrorBody(code: "X", message: "alt"))
        #expect(ErrorBody.parse(Array("<html></html>".utf8)) == nil)
        #expect(ErrorBody.parse(Array(#"{"error_code": "#.utf8)) == nil)
        // In a success body only top-level error markers count.
        #expect(ErrorBody.parseTopLevel(Array(#"{"servers":[{"code":"x","message":"y"}]}"#.utf8)) == nil)
        #expect(ErrorBody.parseTopLevel(Array(#"{"error_code":"CBC.30050010","error_msg":"unpaid"}"#.utf8))?.code == "CBC.30050010")
        #expect(ErrorBody.parseTopLevel(Array("{\n  \"request_id\": \"r\",\n  \"error\" : {\"code\": \"E\", \"message\": \"m\"}}".utf8))?.code == "E")
        // The byte pre-check: no `"error` anywhere means no error document, without parsing.
        #expect(!ErrorBody.containsErrorKey(Array(#"{"job_id":"j","status":"SUCCESS"}"#.utf8)))
        #expect(ErrorBody.containsErrorKey(Array(#"{"a":1,"error_code":"x"}"#.utf8)))
        #expect(!ErrorBody.containsErrorKey(Array(#""erro"#.utf8)))
    }

    @Test func descriptionCarriesEverythingButSecrets() {
        let error = CloudError(service: .bss, operation: "bss.unsubscribe", httpStatus: 400, code: "CBC.30050010",
                               message: "unpaid with key SKSECRET-xyz", requestID: "req-1", classification: .permanent, hint: "pay it")
            .redacting(["SKSECRET-xyz"])
        #expect(error.description == "BSS bss.unsubscribe failed (HTTP 400 CBC.30050010): unpaid with key <redacted> [request id req-1] — permanent. pay it")
    }
}
