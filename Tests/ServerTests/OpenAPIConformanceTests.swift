import Foundation
import Testing
import UnwindCore
import UnwindServer
import UnwindTesting
import Yams

/// docs/openapi.yaml and the server agree: every documented operation answers a real request with a documented
/// status and a body that has the documented shape (required properties, types, enums, nested schemas), every
/// secured operation refuses a missing token as documented, and every route the server registers is documented.
@Suite("OpenAPI document matches the server", .enabled(if: TestEnvironment.hasDatabase))
struct OpenAPIConformanceTests {
    static var documentPath: String { TestEnvironment.repositoryRoot + "/docs/openapi.yaml" }

    static func loadDocument() throws -> [String: Any] {
        let text = try String(contentsOfFile: documentPath, encoding: .utf8)
        return try #require(try Yams.load(yaml: text) as? [String: Any])
    }

    static let methods = ["get", "post", "put", "patch", "delete"]

    @Test("every route the server registers is documented, and every documented operation exists")
    func routesMatch() async throws {
        let document = try Self.loadDocument()
        #expect(document["openapi"] as? String == "3.1.0")
        let paths = try #require(document["paths"] as? [String: Any])
        var documented: Set<String> = []
        for (path, item) in paths {
            for method in Self.methods where (item as? [String: Any])?[method] != nil {
                documented.insert("\(method.uppercased()) \(path)")
            }
        }
        let harness = try await ServerHarness(metrics: { "" })
        let registered = Set(harness.server.routes.map(\.description))
        await harness.stop()
        #expect(registered.subtracting(documented).isEmpty, "registered but not documented: \(registered.subtracting(documented).sorted())")
        #expect(documented.subtracting(registered).isEmpty, "documented but not registered: \(documented.subtracting(registered).sorted())")
    }

    @Test("every documented operation answers as documented")
    func operationsAnswerAsDocumented() async throws {
        let document = try Self.loadDocument()
        let validator = SchemaValidator(document: document)
        let harness = try await ServerHarness(metrics: { "# HELP unwind_up 1\n" })
        harness.engine.startWorker()
        // Workflows in the states the operator actions need: failed after the pivot (skip, resume), waiting (cancel).
        let failedForSkip = try await harness.submit("saga", input: ["account": "oa-skip", "test": ["finish": ["fail": "permanent"]]])
        let failedForResume = try await harness.submit("saga", input: ["account": "oa-resume", "test": ["finish": ["fail": "permanent"]]])
        let waiting = try await harness.submit("saga", input: ["account": "oa-cancel", "test": ["prepare": ["wait_ms": 60_000]]])
        try await harness.engine.waitFor(failedForSkip, in: ["failed"])
        try await harness.engine.waitFor(failedForResume, in: ["failed"])
        try await harness.engine.waitUntil("prepare waiting") { try harness.store.steps(of: waiting).first?.state == "waiting" }

        let paths = try #require(document["paths"] as? [String: Any])
        var checked = 0
        for (path, rawItem) in paths.sorted(by: { $0.key < $1.key }) {
            let item = try #require(rawItem as? [String: Any])
            for method in Self.methods {
                guard let operation = item[method] as? [String: Any] else { continue }
                let operationID = operation["operationId"] as? String ?? "\(method) \(path)"
                let id: UUID = switch operationID {
                case "resumeWorkflow": failedForResume
                case "cancelWorkflow": waiting
                default: failedForSkip
                }
                let concretePath = path.replacingOccurrences(of: "{id}", with: id.uuidString.lowercased())
                let example = Self.requestExample(operation, document: document)
                let responses = try #require(operation["responses"] as? [String: Any], "\(operationID) documents no responses")

                // The happy path: the first documented 2xx.
                let answer = try await harness.request(method.uppercased(), concretePath, json: example)
                let expected = responses.keys.filter { $0.hasPrefix("2") }.sorted()
                #expect(expected.contains(String(answer.status)), "\(operationID): \(answer.status) not among documented \(expected): \(answer.text)")
                try validator.check(answer, against: responses[String(answer.status)], operation: operationID)

                // Secured operations refuse a missing token exactly as documented.
                let secured = (operation["security"] as? [Any]).map { !$0.isEmpty } ?? true
                if secured {
                    let refused = try await harness.request(method.uppercased(), concretePath, auth: .none, json: example)
                    #expect(refused.status == 401, "\(operationID) without a token: \(refused.status)")
                    #expect(responses["401"] != nil, "\(operationID) does not document 401")
                    #expect(refused.header("www-authenticate") != nil)
                    try validator.check(refused, against: responses["401"], operation: operationID + " (401)")
                }
                // Operations on one workflow document 400 for a malformed ID and 404 for an unknown one.
                if path.contains("{id}") && path.hasPrefix("/api/") {
                    let malformed = try await harness.request(method.uppercased(), path.replacingOccurrences(of: "{id}", with: "not-a-uuid"), json: example)
                    #expect(malformed.status == 400)
                    try validator.check(malformed, against: responses["400"], operation: operationID + " (400)")
                    let unknown = try await harness.request(method.uppercased(), path.replacingOccurrences(of: "{id}", with: UUID().uuidString), json: example)
                    #expect(unknown.status == 404)
                    try validator.check(unknown, against: responses["404"], operation: operationID + " (404)")
                }
                // Operations with a body document 400 for an unknown field.
                if example != nil {
                    var bad = example as? [String: Any] ?? [:]
                    bad["no_such_field"] = 1
                    let unknownField = try await harness.request(method.uppercased(), concretePath, json: bad)
                    #expect(unknownField.status == 400, "\(operationID) with an unknown field: \(unknownField.status)")
                    try validator.check(unknownField, against: responses["400"], operation: operationID + " (400 body)")
                }
                checked += 1
            }
        }
        #expect(checked >= 14)
        await harness.stop()
    }

    static func requestExample(_ operation: [String: Any], document: [String: Any]) -> Any? {
        guard let body = operation["requestBody"] as? [String: Any],
              let content = body["content"] as? [String: Any],
              let json = content["application/json"] as? [String: Any] else { return nil }
        return json["example"]
    }
}

/// Enough of JSON Schema (2020-12, as OpenAPI 3.1 uses it) to check answers: $ref, type (also lists with "null"),
/// required, properties, additionalProperties, items, enum.
struct SchemaValidator {
    let document: [String: Any]

    func check(_ answer: ServerHarness.Answer, against rawResponse: Any?, operation: String) throws {
        var response = try #require(rawResponse as? [String: Any], "\(operation): status \(answer.status) is not documented")
        if let ref = response["$ref"] as? String { response = try #require(resolve(ref) as? [String: Any]) }
        guard let content = response["content"] as? [String: Any] else {
            #expect(answer.text.isEmpty, "\(operation): documented without a body")
            return
        }
        let contentType = (answer.header("content-type") ?? "").split(separator: ";").first.map(String.init) ?? ""
        let media = try #require(content[contentType] as? [String: Any], "\(operation): content type '\(contentType)' not documented (\(content.keys.sorted()))")
        guard contentType == "application/json" else {
            #expect(!answer.text.isEmpty, "\(operation): empty \(contentType) body")
            return
        }
        let value = try JSONDecoder().decode(JSONValue.self, from: Data(answer.text.utf8))
        var problems: [String] = []
        validate(value, media["schema"] ?? [:], at: "$", problems: &problems)
        #expect(problems.isEmpty, "\(operation): \(problems.joined(separator: "; ")) in \(answer.text.prefix(500))")
    }

    func resolve(_ ref: String) -> Any? {
        var node: Any? = document
        for part in ref.dropFirst(2).split(separator: "/") { node = (node as? [String: Any])?[String(part)] }
        return node
    }

    func validate(_ value: JSONValue, _ rawSchema: Any, at path: String, problems: inout [String]) {
        guard var schema = rawSchema as? [String: Any] else { return }
        if let ref = schema["$ref"] as? String {
            guard let resolved = resolve(ref) as? [String: Any] else { problems.append("\(path): unresolved \(ref)"); return }
            schema = resolved
        }
        let types: [String] = (schema["type"] as? String).map { [$0] } ?? (schema["type"] as? [String]) ?? []
        if !types.isEmpty && !types.contains(where: { matches(value, $0) }) {
            problems.append("\(path): expected \(types.joined(separator: "|")), got \(value.canonicalJSON.prefix(80))")
            return
        }
        if let allowed = schema["enum"] as? [Any], let text = value.stringValue, !allowed.contains(where: { "\($0)" == text }) {
            problems.append("\(path): '\(text)' is not one of \(allowed)")
        }
        if case .object(let object) = value {
            for name in schema["required"] as? [String] ?? [] where object[name] == nil {
                problems.append("\(path): required property '\(name)' is missing")
            }
            let properties = schema["properties"] as? [String: Any] ?? [:]
            for (name, property) in object {
                if let propertySchema = properties[name] {
                    validate(property, propertySchema, at: "\(path).\(name)", problems: &problems)
                } else if let additional = schema["additionalProperties"] as? [String: Any] {
                    validate(property, additional, at: "\(path).\(name)", problems: &problems)
                } else if !properties.isEmpty {
                    // Documented objects list every property the server sends.
                    problems.append("\(path): property '\(name)' is not documented")
                }
            }
        }
        if case .array(let array) = value, let items = schema["items"] {
            for (index, element) in array.enumerated() { validate(element, items, at: "\(path)[\(index)]", problems: &problems) }
        }
    }

    func matches(_ value: JSONValue, _ type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("number", .number):
            return true
        case ("integer", .number(let number)):
            return number.rounded() == number
        default:
            return false
        }
    }
}
