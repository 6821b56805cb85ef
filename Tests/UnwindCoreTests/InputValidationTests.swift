import Foundation
import Testing
import UnwindCore

@Suite("Workflow input validation")
struct InputValidationTests {
    let definition = try! WorkflowDefinitionLoader.load(yaml: """
        name: teardown
        concurrency_key: "{domain_id}/{region}"
        inputs:
          domain_id: {type: string, required: true, pattern: "^[0-9a-f]{32}$", max_length: 32}
          region: {type: string, enum: [eu-west-101, ap-southeast-1], default: eu-west-101}
          delete_volume: {type: bool, default: false}
          retries: {type: int}
          ratio: {type: number}
          tags: {type: object}
          ids: {type: array}
        steps: [{id: a, action: test.noop}]
        """, file: "teardown.yaml", knownActions: knownActions)

    let domain = String(repeating: "a", count: 32)

    @Test func appliesDefaults() throws {
        let input = try definition.validateInput(["domain_id": .string(domain)])
        #expect(input == ["domain_id": .string(domain), "region": "eu-west-101", "delete_volume": false])
        #expect(definition.renderConcurrencyKey(input: input) == "\(domain)/eu-west-101")
    }

    @Test func acceptsEveryTypeAndTreatsNullAsAbsent() throws {
        let input = try definition.validateInput([
            "domain_id": .string(domain), "region": nil, "retries": 3, "ratio": 0.5,
            "tags": ["k": "v"], "ids": [1, "two"], "delete_volume": true,
        ])
        #expect(input["region"] == "eu-west-101")
        #expect(input["retries"]?.intValue == 3)
        #expect(input["ratio"]?.doubleValue == 0.5)
        #expect(input["tags"]?["k"] == "v")
        #expect(input["ids"]?[1]?.stringValue == "two")
        #expect(input["delete_volume"]?.boolValue == true)
    }

    /// For an array input, `enum` names what each element may be; acknowledgements are checked the same way.
    @Test func anArrayEnumConstrainsEachElement() throws {
        let acknowledging = try WorkflowDefinitionLoader.load(yaml: """
            name: acks
            inputs:
              accept: {type: array, default: [], enum: [handling-fee, open-orders]}
            steps: [{id: a, action: test.noop}]
            """, file: "acks.yaml", knownActions: knownActions)
        #expect(try acknowledging.validateInput(["accept": ["open-orders", "handling-fee"]])["accept"]?.arrayValue?.count == 2)
        #expect(try acknowledging.validateInput([:])["accept"] == [])
        #expect(throws: InputValidationError(problems: [
            "'accept': element \"handling-fees\" is not one of \"handling-fee\", \"open-orders\"; did you mean 'handling-fee'?",
            "'accept': element 3 is not one of \"handling-fee\", \"open-orders\"",
        ])) { try acknowledging.validateInput(["accept": ["handling-fees", 3]]) }
        // Acknowledgements given beside the input (--accept, the API's "accept") are checked before they are merged …
        #expect(throws: InputValidationError(problems: [
            "'accept': element \"open-order\" is not one of \"handling-fee\", \"open-orders\"; did you mean 'open-orders'?",
        ])) { try acknowledging.input([:], withAcknowledgements: ["open-order"]) }
        #expect(try acknowledging.input(["accept": ["open-orders"]], withAcknowledgements: ["handling-fee"])["accept"] == ["handling-fee", "open-orders"])
        // An `accept` that is not a list (a JSON line's "accept": "totally-bogus") reaches validation, which refuses
        // it; merged with the flags it used to be replaced by their list, silently.
        for given: JSONValue in ["totally-bogus", ["handling-fee", 3]] {
            #expect(throws: InputValidationError.self) {
                try acknowledging.validateInput(try acknowledging.input(["accept": given], withAcknowledgements: []))
            }
        }
        // … and refused by a workflow that takes none, instead of being dropped.
        #expect(throws: InputValidationError(problems: [
            "accept: workflow 'teardown' takes no acknowledgements (it declares no 'accept' input); leave them out",
        ])) { try definition.input([:], withAcknowledgements: ["handling-fee"]) }
        #expect(try definition.input(["retries": 1], withAcknowledgements: []) == ["retries": 1])
        // An enum of scalars on an array is no longer a definition error; on a scalar input it still must match.
        #expect(throws: DefinitionError.self) {
            try WorkflowDefinitionLoader.load(yaml: """
                name: bad
                inputs:
                  mode: {type: string, enum: [[a]]}
                steps: [{id: a, action: test.noop}]
                """, file: "bad.yaml", knownActions: knownActions)
        }
    }

    /// A huge bad value is named, not echoed whole (a 900 KB value made a 1.8 MB error).
    @Test func aHugeBadValueIsShortenedInTheMessage() throws {
        let huge = String(repeating: "z", count: 100_000)
        let error = try #require(throws: InputValidationError.self) { try definition.validateInput(["domain_id": .string(huge)]) }
        #expect(error.description.count < 400, "\(error.description.count) characters")
        #expect(error.problems.contains { $0.contains("does not match pattern") && $0.contains("…") })
    }

    @Test func reportsEveryProblemByField() throws {
        do {
            _ = try definition.validateInput([
                "domain_id": .string(String(repeating: "z", count: 33)),
                "region": "mars-1",
                "delete_volume": "yes",
                "retries": 2.5,
                "ratio": "fast",
                "tags": [1, 2],
                "ids": ["a": 1],
                "regoin": "x",
            ])
            Issue.record("expected an error")
        } catch {
            let z33 = String(repeating: "z", count: 33)
            #expect(error.problems == [
                "'domain_id': is 33 characters long; the maximum is 32",
                "'domain_id': value \"\(z33)\" does not match pattern ^[0-9a-f]{32}$",
                "'region': value \"mars-1\" is not one of \"eu-west-101\", \"ap-southeast-1\"",
                "'delete_volume': expected bool, got string",
                "'retries': expected int, got number",
                "'ratio': expected number, got string",
                "'tags': expected object, got array",
                "'ids': expected array, got object",
                "'regoin': unknown field; did you mean 'region'?",
            ])
            #expect(error.description.hasPrefix("invalid workflow input: 'domain_id': "))
        }
    }

    /// Thousands of made-up fields, or a name a megabyte long, make a refusal of a few lines, not of the input's size.
    @Test func manyOrLongUnknownFieldsMakeAShortMessage() {
        var input: [String: JSONValue] = ["domain_id": "0a1b2c3d4e5f40718293a4b5c6d7e8f9"]
        for index in 0..<5000 { input["extra\(index)"] = 1 }
        input[String(repeating: "n", count: 1_000_000)] = 1
        do {
            _ = try definition.validateInput(input)
            Issue.record("expected an error")
        } catch {
            #expect(error.problems.count <= 12, "\(error.problems.count) problems")
            #expect(error.problems.last == "and 4991 more unknown fields")
            #expect(error.description.count < 2_000, "\(error.description.count) characters")
        }
    }

    /// A concurrency key is an index entry: one rendered longer than PostgreSQL indexes failed the submission with a
    /// raw database error (and a fleet's batch with it, after its whole-file check had passed).
    @Test func aConcurrencyKeyTooLongToIndexIsAnInputProblem() throws {
        let keyed = try WorkflowDefinitionLoader.load(yaml: """
            name: keyed
            concurrency_key: "t-{ticket}"
            inputs:
              ticket: {type: string, required: true}
            steps: [{id: a, action: test.noop}]
            """, file: "keyed.yaml", knownActions: knownActions)
        #expect(try keyed.validateInput(["ticket": .string(String(repeating: "x", count: 900))])["ticket"] != nil)
        #expect {
            try keyed.validateInput(["ticket": .string(String(repeating: "x", count: 3000))])
        } throws: { error in
            (error as? InputValidationError)?.problems == [
                "concurrency_key: the input makes it 3002 bytes long; at most 1000 (give the input fields it uses a max_length)",
            ]
        }
    }

    /// `list --label key=value` splits at the first `=`, and a control character in a key garbles every listing.
    @Test func labelKeysThatCouldNotBeFoundAreRefused() {
        #expect(SubmissionLimits.problems(labels: ["team": "a=b"], notBefore: nil).isEmpty, "an = in a value is fine")
        #expect(SubmissionLimits.problems(labels: ["k=v": "x"], notBefore: nil) == ["labels: key 'k=v' contains '='; `list --label key=value` could not find it"])
        #expect(SubmissionLimits.problems(labels: ["a\nb": "x"], notBefore: nil) == ["labels: a key contains a control character (a newline, a tab, an escape)"])
    }

    @Test func missingRequiredField() {
        #expect(throws: InputValidationError(problems: ["'domain_id': required field is missing"])) {
            try definition.validateInput([:])
        }
        #expect(throws: InputValidationError(problems: ["'domain_id': required field is missing"])) {
            try definition.validateInput(["domain_id": nil])
        }
    }

    @Test func jsonValueConveniences() throws {
        let value: JSONValue = ["b": [1, 2.5, nil, true], "a": "x\"y"]
        #expect(value.canonicalJSON == #"{"a":"x\"y","b":[1,2.5,null,true]}"#)
        #expect(value["b"]?[0]?.intValue == 1)
        #expect(value["b"]?[1]?.intValue == nil)
        #expect(value["b"]?[2]?.isNull == true)
        #expect(value["missing"] == nil)
        let data = try JSONEncoder().encode(value)
        #expect(try JSONDecoder().decode(JSONValue.self, from: data) == value)
    }
}
