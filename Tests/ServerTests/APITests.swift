import Foundation
import Testing
import UnwindCore
import UnwindStore
import UnwindTesting

/// Every `/api/v1` endpoint against a real server, a real PostgreSQL and in-process workers: answers, filters,
/// the CLI's submission rules, operator actions recorded with who and why, and bad input.
@Suite("HTTP API", .enabled(if: TestEnvironment.hasDatabase))
struct APITests {
    @Test("health, readiness, and a JSON 404 for unknown paths")
    func health() async throws {
        let harness = try await ServerHarness()
        let health = try await harness.request("GET", "/healthz", auth: .none)
        #expect(health.status == 200)
        #expect(health.json["status"] as? String == "ok")
        let ready = try await harness.request("GET", "/readyz", auth: .none)
        #expect(ready.status == 200, "\(ready.text)")
        #expect(ready.json["status"] as? String == "ready")
        let missing = try await harness.request("GET", "/api/v1/nothing-here")
        #expect(missing.status == 404)
        #expect(missing.errorCode == "not_found")
        // No metrics renderer configured: no /metrics route.
        #expect(try await harness.request("GET", "/metrics", auth: .none).status == 404)

        // A known path with a method it does not serve is a 405 naming the ones it does, not a 404.
        let wrongMethod = try await harness.request("DELETE", "/api/v1/workflows/0b7c2b7e-5a1e-4a36-9d8e-2f3a3c1b9e01")
        #expect(wrongMethod.status == 405, "\(wrongMethod.text)")
        #expect(wrongMethod.errorCode == "method_not_allowed")
        #expect(wrongMethod.header("allow") == "GET, HEAD", "\(wrongMethod.headers)")
        #expect(wrongMethod.errorMessage.contains("use GET or HEAD"), "\(wrongMethod.errorMessage)")
        let getOnSubmit = try await harness.request("PUT", "/api/v1/workflows")
        #expect(getOnSubmit.status == 405 && getOnSubmit.header("allow") == "GET, HEAD, POST", "\(getOnSubmit.headers)")
        #expect(try await harness.request("GET", "/api/v1/workflows/x/cancel").header("allow") == "POST")
        #expect(try await harness.request("DELETE", "/api/v1/nothing-here").status == 404)
        // HEAD answers like GET, without a body.
        let head = try await harness.request("HEAD", "/healthz", auth: .none)
        #expect(head.status == 200 && head.text.isEmpty, "\(head.status) \(head.text)")
        #expect(head.header("content-type")?.hasPrefix("application/json") == true)
        #expect(try await harness.request("HEAD", "/api/v1/workflows", auth: .none).status == 401)
        await harness.stop()
    }

    @Test("a too-large body is read to its end and answered 413, so a client that sends it all first sees the answer")
    func tooLargeBodyIsAnswered() async throws {
        let harness = try await ServerHarness()
        let port = harness.port
        let token = ServerHarness.token
        // A raw socket that writes the whole 2 MiB body before reading, as Python's urllib does: if the server
        // stopped reading at its 1 MiB limit, the write would block until the send timeout and fail.
        let answer = try await offThePool { () throws -> String in
            let body = "{\"reason\": \"" + String(repeating: "x", count: 2 << 20) + "\"}"
            let head = "POST /api/v1/workflows HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\n"
                + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
            let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(socket) }
            var timeout = timeval(tv_sec: 20, tv_usec: 0)
            setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else { throw TestFailure(description: "cannot connect to the server") }
            let bytes = Array((head + body).utf8)
            var sent = 0
            while sent < bytes.count {
                let n = bytes[sent...].withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard n > 0 else { throw TestFailure(description: "the server stopped reading the body after \(sent) of \(bytes.count) bytes") }
                sent += n
            }
            var reply: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = recv(socket, &chunk, chunk.count, 0)
                if n <= 0 { break }
                reply += chunk[..<n]
            }
            return String(decoding: reply, as: UTF8.self)
        }
        #expect(answer.hasPrefix("HTTP/1.1 413"), "\(answer.prefix(300))")
        #expect(answer.lowercased().contains("connection: close"))
        #expect(answer.contains("body_too_large"))
        await harness.stop()
    }

    @Test("readiness is 503 with a reason when migrations are pending")
    func readinessPending() async throws {
        let database = try await TestDatabase.create(migrated: false)
        let harness = try await ServerHarness(engine: try EngineHarness(database: database))
        let ready = try await harness.request("GET", "/readyz", auth: .none)
        #expect(ready.status == 503)
        #expect(ready.json["status"] as? String == "unavailable")
        #expect((ready.json["reason"] as? String ?? "").contains("unwind migrate"), "\(ready.text)")
        #expect(try await harness.request("GET", "/healthz", auth: .none).status == 200)
        await harness.stop()
    }

    @Test("/metrics serves the configured renderer's text")
    func metrics() async throws {
        let harness = try await ServerHarness(metrics: { "# TYPE unwind_workflows gauge\nunwind_workflows{state=\"running\"} 0\n" })
        let answer = try await harness.request("GET", "/metrics", auth: .none)
        #expect(answer.status == 200)
        #expect(answer.header("content-type")?.hasPrefix("text/plain") == true)
        #expect(answer.text.contains("unwind_workflows{state=\"running\"} 0"))
        await harness.stop()
    }

    @Test("authentication: 401 with WWW-Authenticate for a missing or wrong token, 403 with none configured")
    func authentication() async throws {
        let harness = try await ServerHarness()
        for (path, method, body) in [("/api/v1/workflows", "GET", nil), ("/api/v1/counts", "GET", nil),
                                     ("/api/v1/workflows", "POST", ["workflow": "saga", "input": ["account": "a"]] as [String: Any]?)] {
            let missing = try await harness.request(method, path, auth: .none, json: body)
            #expect(missing.status == 401, "\(method) \(path)")
            #expect(missing.header("www-authenticate") == #"Bearer realm="unwind""#)
            #expect(missing.errorCode == "unauthorized")
            let wrong = try await harness.request(method, path, auth: .bearer("not-the-token"), json: body)
            #expect(wrong.status == 401)
            #expect(wrong.header("www-authenticate")?.contains(#"error="invalid_token""#) == true)
            #expect(!wrong.text.contains("not-the-token"), "the sent token is never echoed")
            // Same length as the real one, one byte off.
            var almost = Array(ServerHarness.token)
            almost[almost.count - 1] = "x"
            #expect(try await harness.request(method, path, auth: .bearer(String(almost)), json: body).status == 401)
            let basic = try await harness.request(method, path, auth: .raw("Basic dXNlcjpwYXNz"), json: body)
            #expect(basic.status == 401)
        }
        #expect(try await harness.request("GET", "/api/v1/workflows").status == 200)
        await harness.stop()

        // No token configured: mutating calls are refused outright, reads too unless opened.
        let closed = try await ServerHarness(token: nil)
        let submit = try await closed.request("POST", "/api/v1/workflows", auth: .bearer("anything"), json: ["workflow": "saga"])
        #expect(submit.status == 403)
        #expect(submit.errorCode == "no_token_configured")
        #expect(submit.errorMessage.contains("no API token configured"))
        #expect(try await closed.request("GET", "/api/v1/workflows", auth: .none).status == 403)
        await closed.stop()

        // Public reads: reads open, writes still need the token.
        let open = try await ServerHarness(publicReads: true)
        #expect(try await open.request("GET", "/api/v1/workflows", auth: .none).status == 200)
        #expect(try await open.request("GET", "/api/v1/counts", auth: .none).status == 200)
        let write = try await open.request("POST", "/api/v1/workflows", auth: .none, json: ["workflow": "saga", "input": ["account": "a"]])
        #expect(write.status == 401)
        await open.stop()
    }

    @Test("submit: created, idempotent, validated, acknowledgements required as in the CLI, concurrency key held")
    func submit() async throws {
        let harness = try await ServerHarness()
        let first = try await harness.request("POST", "/api/v1/workflows", json: [
            "workflow": "saga", "input": ["account": "acme"], "idempotency_key": "OPS-1", "labels": ["team": "sec"], "actor": "alice",
        ])
        #expect(first.status == 201, "\(first.text)")
        #expect(first.json["created"] as? Bool == true)
        #expect(first.json["workflow"] as? String == "saga")
        let id = try #require(UUID(uuidString: first.json["id"] as? String ?? ""))
        #expect(first.json["id"] as? String == id.uuidString.lowercased(), "ids are lower-case, as in every other answer")
        #expect(try harness.store.workflow(id).submittedBy == "api:alice")
        #expect(try harness.store.workflow(id).labels == ["team": "sec"])

        let again = try await harness.request("POST", "/api/v1/workflows", json: ["workflow": "saga", "input": ["account": "acme"], "idempotency_key": "OPS-1"])
        #expect(again.status == 200)
        #expect(again.json["created"] as? Bool == false)
        #expect(again.json["id"] as? String == first.json["id"] as? String)

        // The concurrency key (account:acme) is held by the first one.
        let held = try await harness.request("POST", "/api/v1/workflows", json: ["workflow": "saga", "input": ["account": "acme"]])
        #expect(held.status == 409)
        #expect(held.errorCode == "concurrency_key_held")

        let invalid = try await harness.request("POST", "/api/v1/workflows", json: ["workflow": "saga", "input": ["account": "Not Valid!", "extra": 1]])
        #expect(invalid.status == 400)
        #expect(invalid.errorCode == "invalid_input")
        #expect(invalid.errorMessage.contains("account"))

        let unknown = try await harness.request("POST", "/api/v1/workflows", json: ["workflow": "nope"])
        #expect(unknown.status == 400)
        #expect(unknown.errorCode == "unknown_workflow")
        #expect(unknown.errorMessage.contains("planned") && unknown.errorMessage.contains("saga"))

        // A definition broken on the server is named by its file name, not by where the server keeps it, and a step's
        // action named as the plan is caught when the definition is loaded.
        try "name: broken\nplan: test.noop\nsteps:\n  - {id: a, action: test.noop}\n".write(
            toFile: harness.workflows + "/broken.yaml", atomically: true, encoding: .utf8)
        let broken = try await harness.request("POST", "/api/v1/workflows", json: ["workflow": "broken"])
        #expect(broken.status == 422 && broken.errorCode == "invalid_definition", "\(broken.text)")
        #expect(broken.errorMessage.contains("broken.yaml:2: plan: 'test.noop' is a step's action, not a plan"), "\(broken.errorMessage)")
        #expect(!broken.errorMessage.contains(harness.workflows), "\(broken.errorMessage)")
        try FileManager.default.removeItem(atPath: harness.workflows + "/broken.yaml")

        // The plan asks for "test-fee": refused without it, nothing stored; accepted with it.
        let before = try harness.store.list(WorkflowFilter(workflow: "planned")).count
        let refused = try await harness.request("POST", "/api/v1/workflows", json: ["workflow": "planned", "input": ["fee": 12.5]])
        #expect(refused.status == 422, "\(refused.text)")
        #expect(refused.errorCode == "acknowledgement_required")
        #expect(refused.errorMessage.contains("test-fee"))
        #expect(try harness.store.list(WorkflowFilter(workflow: "planned")).count == before)
        let accepted = try await harness.request("POST", "/api/v1/workflows", json: ["workflow": "planned", "input": ["fee": 12.5], "accept": ["test-fee"]])
        #expect(accepted.status == 201, "\(accepted.text)")
        let plannedID = try #require(UUID(uuidString: accepted.json["id"] as? String ?? ""))
        // Like `--accept`, the acknowledgement lands in the workflow's `accept` input for its steps to check.
        #expect(try harness.store.workflow(plannedID).input["accept"] == .array(["test-fee"]))
        // A plan whose reads keep failing: a cloud that may recover is 503 with Retry-After, a refusal 502; both
        // say that nothing was submitted.
        let throttled = try await harness.request("POST", "/api/v1/workflows", json: ["workflow": "planned", "input": ["fee": -1]])
        #expect(throttled.status == 503 && throttled.errorCode == "plan_failed" && throttled.header("Retry-After") != nil, "\(throttled.text)")
        #expect(throttled.errorMessage.contains("Nothing was planned, submitted or changed; try again later, or once the cause above is fixed"), "\(throttled.text)")
        let refusedRead = try await harness.request("POST", "/api/v1/workflows", json: ["workflow": "planned", "input": ["fee": -2]])
        #expect(refusedRead.status == 502 && refusedRead.errorMessage.contains("fix the cause, then try again"), "\(refusedRead.text)")
        #expect(try harness.store.list(WorkflowFilter(workflow: "planned")).count == before + 1)

        // Bad bodies.
        let notJSON = try await harness.request("POST", "/api/v1/workflows", body: "workflow=saga", contentType: "application/json")
        #expect(notJSON.status == 400)
        #expect(notJSON.errorCode == "invalid_body")
        let twice = try await harness.request("POST", "/api/v1/workflows", body: #"{"workflow":"saga","workflow":"planned"}"#, contentType: "application/json")
        #expect(twice.status == 400 && twice.errorCode == "invalid_body" && twice.text.contains("appears twice"), "\(twice.text)")
        let wrongType = try await harness.request("POST", "/api/v1/workflows", body: "{}", contentType: "text/plain")
        #expect(wrongType.status == 415)
        let unknownField = try await harness.request("POST", "/api/v1/workflows", json: ["workflow": "saga", "inputs": [:]])
        #expect(unknownField.status == 400)
        #expect(unknownField.errorCode == "unknown_field")
        #expect(unknownField.errorMessage.contains("'inputs'"))
        let missingName = try await harness.request("POST", "/api/v1/workflows", json: ["input": [:]])
        #expect(missingName.status == 400)
        #expect(missingName.errorCode == "missing_field")
        let badTime = try await harness.request("POST", "/api/v1/workflows", json: ["workflow": "saga", "input": ["account": "b"], "not_before": "tomorrow"])
        #expect(badTime.status == 400)
        #expect(badTime.errorMessage.contains("not_before"))
        // Impossible fields are refused, not rolled over (February 30th was scheduled for March 2nd).
        for time in ["2027-02-30T00:00:00Z", "2027-12-31T23:59:60Z", "2027-02-29T10:00:00+08:00"] {
            let impossible = try await harness.request("POST", "/api/v1/workflows", json: ["workflow": "saga", "input": ["account": "b"], "not_before": time])
            #expect(impossible.status == 400 && impossible.errorMessage.contains("is not a real date and time"), "\(time): \(impossible.text)")
        }
        for time in ["10000-01-01T00:00:00Z", "99999-01-01T00:00:00Z", "0001-01-01T00:00:00Z"] {
            let outOfRange = try await harness.request("POST", "/api/v1/workflows", json: ["workflow": "saga", "input": ["account": "b"], "not_before": time])
            #expect(outOfRange.status == 400 && outOfRange.errorMessage.contains("not_before: "), "\(time): \(outOfRange.text)")
        }
        let labels = Dictionary(uniqueKeysWithValues: (0...64).map { ("k\($0)", "v") })
        let tooManyLabels = try await harness.request("POST", "/api/v1/workflows", json: ["workflow": "saga", "input": ["account": "b"], "labels": labels])
        #expect(tooManyLabels.status == 400 && tooManyLabels.errorMessage.contains("at most 64"), "\(tooManyLabels.text)")
        // An empty idempotency key would make every later one return the first workflow; an empty label has no name.
        for (field, value) in [("idempotency_key", "   " as Any), ("labels", ["": "x"] as Any)] {
            let empty = try await harness.request("POST", "/api/v1/workflows", json: ["workflow": "saga", "input": ["account": "e"], field: value])
            #expect(empty.status == 400 && empty.errorMessage.contains(field), "\(field): \(empty.text)")
        }
        #expect(notJSON.errorMessage.contains(#""workflow": "#), "the example fits this call: \(notJSON.errorMessage)")
        // A NUL character cannot be stored or searched for: the client's mistake (400), not the server's (500).
        let nulLabel = try await harness.request("POST", "/api/v1/workflows", json: ["workflow": "saga", "input": ["account": "n"], "labels": ["team": "a\u{0}b"]])
        #expect(nulLabel.status == 400 && nulLabel.errorCode == "invalid_value", "\(nulLabel.text)")
        let nulFilter = try await harness.request("GET", "/api/v1/workflows?workflow=sa%00ga")
        #expect(nulFilter.status == 400 && nulFilter.errorCode == "invalid_value", "\(nulFilter.text)")
        let badActor = try await harness.request("POST", "/api/v1/workflows", json: ["workflow": "saga", "input": ["account": "b"], "actor": "<script>"])
        #expect(badActor.status == 400)
        #expect(!badActor.text.contains("<script>") || badActor.header("content-type")?.hasPrefix("application/json") == true)
        await harness.stop()
    }

    @Test("list, filters, paging and counts")
    func list() async throws {
        let harness = try await ServerHarness()
        harness.engine.startWorker()
        var ids: [UUID] = []
        for index in 0..<3 {
            ids.append(try await harness.submit("saga", input: ["account": "list-\(index)"], extra: ["labels": ["batch": index == 0 ? "x" : "y"]]))
        }
        for id in ids { try await harness.engine.waitFor(id, in: ["succeeded"]) }
        let failing = try await harness.submit("saga", input: ["account": "list-f", "test": ["finish": ["fail": "permanent"]]])
        try await harness.engine.waitFor(failing, in: ["failed"])

        let all = try await harness.request("GET", "/api/v1/workflows")
        #expect(all.status == 200)
        let rows = all.json["workflows"] as? [[String: Any]] ?? []
        #expect(rows.count == 4)
        #expect(rows.first?["id"] as? String == failing.uuidString.lowercased(), "newest first")
        #expect(rows.first?["steps_total"] as? Int == 3)
        #expect(all.json["next_offset"] is NSNull)

        let failed = try await harness.request("GET", "/api/v1/workflows?state=failed")
        #expect((failed.json["workflows"] as? [[String: Any]])?.map { $0["id"] as? String } == [failing.uuidString.lowercased()])
        let labelled = try await harness.request("GET", "/api/v1/workflows?label=batch%3Dx")
        #expect((labelled.json["workflows"] as? [[String: Any]])?.map { $0["id"] as? String } == [ids[0].uuidString.lowercased()])
        let named = try await harness.request("GET", "/api/v1/workflows?workflow=planned")
        #expect((named.json["workflows"] as? [[String: Any]])?.isEmpty == true)
        let recent = try await harness.request("GET", "/api/v1/workflows?since=1h")
        #expect((recent.json["workflows"] as? [[String: Any]])?.count == 4)
        // The ages `unwind list --since` takes, beyond a definition's 30 days too.
        for age in ["7d", "90d", "721h", "1.5d"] {
            let answer = try await harness.request("GET", "/api/v1/workflows?since=\(age)")
            #expect(answer.status == 200 && (answer.json["workflows"] as? [[String: Any]])?.count == 4, "since=\(age): \(answer.status)")
        }

        let page1 = try await harness.request("GET", "/api/v1/workflows?limit=3")
        #expect((page1.json["workflows"] as? [[String: Any]])?.count == 3)
        #expect(page1.json["next_offset"] as? Int == 3)
        let page2 = try await harness.request("GET", "/api/v1/workflows?limit=3&offset=3")
        #expect((page2.json["workflows"] as? [[String: Any]])?.count == 1)
        #expect(page2.json["next_offset"] is NSNull)

        let counts = try await harness.request("GET", "/api/v1/counts")
        #expect(counts.status == 200)
        let byState = counts.json["counts"] as? [String: Int] ?? [:]
        #expect(byState["succeeded"] == 3)
        #expect(byState["failed"] == 1)
        #expect(byState["cancelled"] == 0)
        #expect(Set(byState.keys) == Set(WorkflowState.allCases.map(\.rawValue)))
        #expect(counts.json["total"] as? Int == 4)
        let countsNamed = try await harness.request("GET", "/api/v1/counts?workflow=planned")
        #expect(countsNamed.json["total"] as? Int == 0)

        for (query, fragment) in [("state=exploded", "'state' must be one of"), ("limit=0", "'limit'"), ("limit=abc", "'limit'"),
                                  ("offset=-1", "'offset'"), ("label=novalue", "key=value"), ("since=yesterday", "'since'"),
                                  ("stat=failed", "unknown query parameter 'stat'"), ("state=failed&state=running", "once"),
                                  ("label=team%3Dred&label=team%3Dblue", "'team' twice"), ("label=a%3D%00", "NUL character"),
                                  ("label=a%00%3Dx", "NUL character"), ("since=36501d", "'since'")] {
            let answer = try await harness.request("GET", "/api/v1/workflows?\(query)")
            #expect(answer.status == 400, "\(query)")
            #expect(answer.errorMessage.contains(fragment), "\(query): \(answer.errorMessage)")
        }
        await harness.stop()
    }

    @Test("one workflow with steps and events; unknown 404, malformed 400")
    func show() async throws {
        let harness = try await ServerHarness()
        harness.engine.startWorker()
        let id = try await harness.submit("saga", input: ["account": "show", "note": "<b>bold</b>\u{1b}[31m"])
        try await harness.engine.waitFor(id, in: ["succeeded"])
        let answer = try await harness.request("GET", "/api/v1/workflows/\(id.uuidString.lowercased())")
        #expect(answer.status == 200, "\(answer.text)")
        let workflow = answer.json["workflow"] as? [String: Any] ?? [:]
        #expect(workflow["state"] as? String == "succeeded")
        #expect((workflow["input"] as? [String: Any])?["note"] as? String == "<b>bold</b>\u{1b}[31m")
        let steps = answer.json["steps"] as? [[String: Any]] ?? []
        #expect(steps.map { $0["step_id"] as? String } == ["prepare", "commit", "finish"])
        #expect(steps.allSatisfy { $0["duration_seconds"] is NSNumber })
        let kinds = (answer.json["events"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String }
        #expect(kinds.first == "workflow_submitted" || kinds.contains("workflow_submitted"), "\(kinds)")
        #expect(kinds.contains("workflow_succeeded"), "\(kinds)")
        #expect(answer.json["actions"] as? [String] == [])

        let unknown = try await harness.request("GET", "/api/v1/workflows/\(UUID().uuidString)")
        #expect(unknown.status == 404)
        #expect(unknown.errorCode == "not_found")
        for bad in ["3f2a9c1e", "not-a-uuid", "%3Cscript%3E"] {
            let malformed = try await harness.request("GET", "/api/v1/workflows/\(bad)")
            #expect(malformed.status == 400, "\(bad)")
            #expect(malformed.errorCode == "malformed_id")
        }
        let malformedAction = try await harness.request("POST", "/api/v1/workflows/xyz/resume", json: ["reason": "r"])
        #expect(malformedAction.status == 400)
        let unknownAction = try await harness.request("POST", "/api/v1/workflows/\(UUID().uuidString)/cancel", json: ["reason": "r"])
        #expect(unknownAction.status == 404)
        await harness.stop()
    }

    @Test("skip, resume and cancel record the API actor and reason; bad or inapplicable requests are refused")
    func operatorActions() async throws {
        let harness = try await ServerHarness()
        harness.engine.startWorker()
        // Fails after the pivot: needs an operator.
        let failing = try await harness.submit("saga", input: ["account": "ops-1", "test": ["finish": ["fail": "permanent"]]])
        try await harness.engine.waitFor(failing, in: ["failed"])
        let path = "/api/v1/workflows/\(failing.uuidString.lowercased())"
        let detail = try await harness.request("GET", path)
        #expect(Set(detail.json["actions"] as? [String] ?? []) == ["resume", "skip", "cancel"])

        let noReason = try await harness.request("POST", path + "/skip", json: ["step": "finish"])
        #expect(noReason.status == 400)
        #expect(noReason.errorMessage.contains("'reason'"))
        let blankReason = try await harness.request("POST", path + "/skip", json: ["step": "finish", "reason": "   "])
        #expect(blankReason.status == 400)
        let noStep = try await harness.request("POST", path + "/skip", json: ["reason": "done by hand"])
        #expect(noStep.status == 400)
        #expect(noStep.errorMessage.contains("'step'"))
        let wrongStep = try await harness.request("POST", path + "/skip", json: ["reason": "x", "step": "prepare"])
        #expect(wrongStep.status == 409, "\(wrongStep.text)")
        #expect(wrongStep.errorCode == "refused")
        let noSuchStep = try await harness.request("POST", path + "/skip", json: ["reason": "x", "step": "nosuch"])
        #expect(noSuchStep.status == 404 && noSuchStep.errorMessage.contains("its steps: "), "\(noSuchStep.text)")
        let noBody = try await harness.request("POST", path + "/resume")
        #expect(noBody.status == 400)
        let badForce = try await harness.request("POST", path + "/cancel", json: ["reason": "x", "force": "yes"])
        #expect(badForce.status == 400)
        // Past the pivot a plain cancel is refused, with the fix in the API's terms (a body field, not a CLI flag).
        let pastPivot = try await harness.request("POST", path + "/cancel", json: ["reason": "x"])
        #expect(pastPivot.status == 409)
        #expect(pastPivot.errorMessage.contains(#"cancel with {"force": true}"#) && !pastPivot.errorMessage.contains("--force"), "\(pastPivot.text)")
        let unauthenticated = try await harness.request("POST", path + "/skip", auth: .none, json: ["reason": "x", "step": "finish"])
        #expect(unauthenticated.status == 401)

        let skipped = try await harness.request("POST", path + "/skip", json: ["reason": "finished in the console", "step": "finish", "actor": "alice"])
        #expect(skipped.status == 200, "\(skipped.text)")
        #expect(skipped.json["action"] as? String == "skip")
        #expect(skipped.json["id"] as? String == failing.uuidString.lowercased())
        try await harness.engine.waitFor(failing, in: ["succeeded"])
        let skipEvent = try #require(try harness.store.events(of: failing).first { $0.kind == "skip_requested" })
        #expect(skipEvent.actor == "api:alice")
        #expect(skipEvent.reason == "finished in the console")

        // Finished: resume and cancel no longer apply.
        let late = try await harness.request("POST", path + "/cancel", json: ["reason": "too late"])
        #expect(late.status == 409)

        // Resume: fails while a file exists; remove it, resume through the API.
        let flag = try TestEnvironment.makeScratchDirectory("flag") + "/broken"
        _ = FileManager.default.createFile(atPath: flag, contents: Data())
        let broken = try await harness.submit("saga", input: ["account": "ops-2", "test": ["finish": ["fail": "permanent", "while_file_exists": flag]]])
        try await harness.engine.waitFor(broken, in: ["failed"])
        try FileManager.default.removeItem(atPath: flag)
        let resumed = try await harness.request("POST", "/api/v1/workflows/\(broken.uuidString)/resume", json: ["reason": "quota unlocked"])
        #expect(resumed.status == 200, "\(resumed.text)")
        try await harness.engine.waitFor(broken, in: ["succeeded"])
        let resumeEvent = try #require(try harness.store.events(of: broken).first { $0.kind == "resume_requested" })
        #expect(resumeEvent.actor == "api:token")
        #expect(resumeEvent.reason == "quota unlocked")

        // Cancel before the pivot compensates.
        let slow = try await harness.submit("saga", input: ["account": "ops-3", "test": ["prepare": ["wait_ms": 60_000]]])
        try await harness.engine.waitUntil("prepare waiting") { try harness.store.steps(of: slow).first?.state == "waiting" }
        let cancelled = try await harness.request("POST", "/api/v1/workflows/\(slow.uuidString)/cancel", json: ["reason": "wrong account", "actor": "bob"])
        #expect(cancelled.status == 200, "\(cancelled.text)")
        try await harness.engine.waitFor(slow, in: ["cancelled", "compensated"])
        #expect(try harness.store.events(of: slow).first { $0.kind == "cancel_requested" }?.actor == "api:bob")
        await harness.stop()
    }
}
