@testable import HuaweiCloud
import HuaweiCloudSigning
import Testing

/// Error bodies and hostile answers over real loopback HTTP: every one must become a classified `CloudError`,
/// never a crash, and never leak a secret.
@Suite("Hostile responses")
struct HostileResponseTests {
    static let json = [("Content-Type", "application/json"), ("X-Request-Id", "req-42")]

    static func answer(_ status: String, _ body: String, headers: [(String, String)] = json) -> @Sendable (RawHTTPServer.Received) -> RawHTTPServer.Reply {
        let bytes = RawHTTPServer.response(status: status, headers: headers, body: body)
        return { _ in .bytes(bytes, close: false) }
    }

    /// Calls a read (`listWorkspaces`) against a server giving `reply`, and returns the error.
    static func readError(_ reply: @escaping @Sendable (RawHTTPServer.Received) -> RawHTTPServer.Reply, timeout: Duration = .seconds(60)) async throws -> CloudError {
        try await RawHTTPServer.with(reply) { server in
            let client = try TestSupport.client(baseURL: server.baseURL, timeout: timeout)
            let error = await TestSupport.cloudError { () async throws(CloudError) in _ = try await client.listWorkspaces(projectID: "p1") }
            return try #require(error)
        }
    }

    static func expectNoSecrets(_ error: CloudError) {
        #expect(!error.description.contains(TestSupport.credentials.secretKey))
        #expect(!error.description.contains(TestSupport.credentials.securityToken!))
    }

    @Test func flatErrorBody() async throws {
        let error = try await Self.readError(Self.answer("403 Forbidden", #"{"error_code":"APIGW.0302","error_msg":"no permission"}"#))
        #expect(error.service == .secmaster && error.operation == "secmaster.list_workspaces")
        #expect(error.httpStatus == 403 && error.code == "APIGW.0302" && error.message == "no permission" && error.requestID == "req-42")
        #expect(error.classification == .permanent)
        #expect(error.hint?.contains("permission") == true)
        Self.expectNoSecrets(error)
    }

    @Test func nestedErrorBody() async throws {
        let error = try await Self.readError(Self.answer("400 Bad Request", #"{"error":{"code":"Ecs.0005","message":"bad parameter"}}"#))
        #expect(error.code == "Ecs.0005" && error.message == "bad parameter" && error.classification == .permanent)
    }

    @Test func codeMessageErrorBody() async throws {
        let error = try await Self.readError(Self.answer("500 Internal Server Error", #"{"code":"SecMaster.00000500","message":"internal"}"#))
        #expect(error.code == "SecMaster.00000500" && error.isRetryable)
    }

    @Test func twoHundredWithAnErrorBody() async throws {
        let error = try await Self.readError(Self.answer("200 OK", #"{"error_code":"CBC.30050010","error_msg":"The resource is part of an unpaid order."}"#))
        #expect(error.httpStatus == 200 && error.code == "CBC.30050010" && error.classification == .permanent)
        #expect(error.message.contains("sent with HTTP 200"))
        #expect(error.hint?.contains("unpaid order") == true)
    }

    @Test func twoHundredWithSuccessCodeIsNotAnError() async throws {
        try await RawHTTPServer.with(Self.answer("200 OK", #"{"error_code":"CBC.0000","error_msg":"success","count":1,"workspaces":[{"id":"w","name":"n"}]}"#)) { server in
            let client = try TestSupport.client(baseURL: server.baseURL)
            let workspaces = try await client.listWorkspaces(projectID: "p1")
            #expect(workspaces == [SecMasterWorkspace(id: "w", name: "n")])
        }
    }

    @Test func htmlErrorPageFromAProxy() async throws {
        let html = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
        let error = try await Self.readError(Self.answer("502 Bad Gateway", html, headers: [("Content-Type", "text/html")]))
        #expect(error.isRetryable && error.code == nil)
        #expect(error.message.contains("HTML page titled '502 Bad Gateway'"))
    }

    @Test func htmlNotFoundPageIsPermanent() async throws {
        let error = try await Self.readError(Self.answer("404 Not Found", "<html><title>Not Found</title></html>", headers: [("Content-Type", "text/html")]))
        #expect(error.classification == .permanent)
        #expect(error.hint?.contains("UNWIND_CLOUD_ENDPOINT") == true)
    }

    @Test func htmlPageWithStatus200IsRetryable() async throws {
        let error = try await Self.readError(Self.answer("200 OK", "<html><title>Maintenance</title></html>", headers: [("Content-Type", "text/html")]))
        #expect(error.isRetryable)
        #expect(error.message.contains("not valid JSON") && error.message.contains("Maintenance"))
    }

    @Test func malformedJSON() async throws {
        let error = try await Self.readError(Self.answer("200 OK", #"{"count": 1, "workspaces": [ {"id": "w", "#))
        #expect(error.isRetryable && error.httpStatus == 200)
        #expect(error.message.contains("not valid JSON"))
    }

    @Test func missingRequiredField() async throws {
        let error = try await Self.readError(Self.answer("200 OK", #"{"count": 1, "workspaces": [{"name": "no id"}]}"#))
        #expect(error.isRetryable)
        #expect(error.message == "the answer lacks the required field 'workspaces[0].id'")
    }

    @Test func wrongFieldType() async throws {
        let error = try await Self.readError(Self.answer("200 OK", #"{"count": 1, "workspaces": [{"id": 7, "name": "n"}]}"#))
        #expect(error.message == "field 'workspaces[0].id' has the wrong type (expected a string)")
    }

    @Test func truncatedBody() async throws {
        // Content-Length promises more than is sent, then the server closes the connection.
        let bytes = RawHTTPServer.response(status: "200 OK", headers: Self.json, body: #"{"count": 1, "work"#, contentLength: 500)
        let error = try await Self.readError { _ in .bytes(bytes, close: true) }
        #expect(error.isRetryable)
        #expect(error.message.contains("closed before a complete answer") || error.message.contains("ended early"))
    }


    @Test func unknownStatusOutsideHTTPRanges() async throws {
        let error = try await Self.readError(Self.answer("600 Strange", #"{"x":1}"#))
        #expect(error.isRetryable && error.httpStatus == 600)
        #expect(error.message == "unknown HTTP status 600")
    }

    @Test func unknownJobStatusIsKeptNotRejected() async throws {
        try await RawHTTPServer.with(Self.answer("200 OK", #"{"job_id":"j","status":"HIBERNATING","entities":{"sub_jobs":[{"status":"RUNNING","entities":{"server_id":"s"}}]}}"#)) { server in
            let client = try TestSupport.client(baseURL: server.baseURL)
            let job = try #require(try await client.showJob(projectID: "p", jobID: "j"))
            #expect(job.status == .other("HIBERNATING") && !job.status.isFinished)
            #expect(job.subJobs == [ECSJob.SubJob(serverID: "s", status: .running)])
        }
    }

    @Test func throttledWithRetryAfter() async throws {
        let error = try await Self.readError(Self.answer("429 Too Many Requests", #"{"error_code":"APIGW.0308","error_msg":"The throttling threshold has been reached"}"#,
                                                         headers: Self.json + [("Retry-After", "3")]))
        #expect(error.classification == .retryable(retryAfter: .seconds(3)))
        #expect(error.description.contains("retryable after 3 s"))
    }

    @Test func serverThatNeverAnswers() async throws {
        // Timed around the client's call alone: stopping the test server afterwards waits for its hung connection,
        // which is the server's business, not the client's (it made the whole helper take about a minute).
        let (error, elapsed) = try await RawHTTPServer.with({ _ in .hang }) { server in
            let client = try TestSupport.client(baseURL: server.baseURL, timeout: .milliseconds(500))
            let started = ContinuousClock.now
            let error = await TestSupport.cloudError { () async throws(CloudError) in _ = try await client.listWorkspaces(projectID: "p1") }
            return (try #require(error), ContinuousClock.now - started)
        }
        // The client gives up by itself instead of waiting for the server (which never answers): four tries of
        // 500 ms and their pauses. The bound is generous because a loaded test machine can delay any timer.
        #expect(elapsed < .seconds(60), "\(elapsed)")
        #expect(error.isRetryable)
        #expect(error.message.contains("timeout"))
    }

    @Test func bodyThatNeverEnds() async throws {
        // Head and part of the body arrive, the rest never does.
        let bytes = RawHTTPServer.response(status: "200 OK", headers: Self.json, body: #"{"count": 1,"#, contentLength: 100)
        let error = try await Self.readError({ _ in .bytes(bytes, close: false) }, timeout: .milliseconds(500))
        #expect(error.isRetryable && error.message.contains("timeout"))
    }

    @Test func connectionResetOnAMutatingCall() async throws {
        try await RawHTTPServer.with({ _ in .reset }) { server in
            let client = try TestSupport.client(baseURL: server.baseURL)
            let error = try #require(await TestSupport.cloudError { () async throws(CloudError) in
                try await client.deleteEndpoint(projectID: "p", endpointID: "e")
            })
            #expect(error.isRetryable)
            #expect(error.hint?.contains("may or may not have been applied") == true)
            Self.expectNoSecrets(error)
        }
    }

    @Test func connectionRefused() async throws {
        // Bind and release a port so that nothing listens on it.
        let server = try await RawHTTPServer.start { _ in .hang }
        let url = server.baseURL
        await server.stop()
        let client = try TestSupport.client(baseURL: url, timeout: .seconds(5))
        let error = try #require(await TestSupport.cloudError { () async throws(CloudError) in _ = try await client.listServers(projectID: "p") })
        #expect(error.isRetryable)
        // AsyncHTTPClient keeps retrying a refused connect until the call's deadline, so which of the two is
        // reported first depends on timing; both are retryable and name the cause.
        // (The released port may even be taken by another test's server meanwhile, which then resets.)
        let message = error.message
        #expect(message == "connection refused by \(url)" || message.contains("(timeout)") || message.contains("connection was reset"), "\(message)")
    }

    /// A host name that does not resolve (a mistyped region, a wrong endpoint) is named as such, and the client
    /// does not add its quick retries to AsyncHTTPClient's own connect retries.
    @Test func aNameThatDoesNotResolve() async throws {
        // `.invalid` never resolves (RFC 6761). AsyncHTTPClient reports the resolver's answer when the call's
        // deadline comes; a deadline well past any loaded machine's resolver delay makes that answer the one seen
        // (with 3 s, a busy CI machine's resolver had not answered yet, and the call was a plain timeout).
        let client = try TestSupport.client(baseURL: "http://unwind-test.invalid:8080", timeout: .seconds(15))
        let error = try #require(await TestSupport.cloudError { () async throws(CloudError) in _ = try await client.listServers(projectID: "p") })
        #expect(error.isRetryable, "DNS may be down for a while; the step's back-off tries again")
        // On a machine so busy that its resolver has not answered within the deadline, the call is a timeout, which
        // says nothing about the DNS case; everything else must be the DNS answer, named.
        if error.message.hasPrefix("no complete answer within") { return }
        #expect(error.connectionNotEstablished)
        #expect(error.message == "the host name unwind-test.invalid does not resolve (DNS)", "\(error.message)")
        #expect(error.hint?.contains("UNWIND_CLOUD_ENDPOINT") == true)
    }

    @Test func deleteNotFoundIsAlreadyDone() async throws {
        try await RawHTTPServer.with(Self.answer("404 Not Found", #"{"error_code":"EndPoint.0005","error_msg":"The requested resource does not exist"}"#)) { server in
            let client = try TestSupport.client(baseURL: server.baseURL)
            let error = try #require(await TestSupport.cloudError { () async throws(CloudError) in
                try await client.deleteEndpoint(projectID: "p", endpointID: "e")
            })
            #expect(error.classification == .alreadyDone && error.code == "EndPoint.0005")
            // A show of the same endpoint is simply nil.
            #expect(try await client.showEndpoint(projectID: "p", endpointID: "e") == nil)
        }
    }

    /// The APIs never redirect. A 3xx (a proxy's, a hijacked endpoint's) is not followed: the signed headers, the
    /// security token and a change's body never reach the host `Location` names (AsyncHTTPClient follows up to 5 by
    /// default, https to http included).
    @Test(arguments: ["302 Found", "307 Temporary Redirect"])
    func redirectsAreNotFollowed(status: String) async throws {
        try await RawHTTPServer.with(Self.answer("404 Not Found", "")) { elsewhere in
            let reply = Self.answer(status, "", headers: [("Location", elsewhere.baseURL + "/steal")])
            try await RawHTTPServer.with(reply) { server in
                let client = try TestSupport.client(baseURL: server.baseURL)
                let read = try #require(await TestSupport.cloudError { () async throws(CloudError) in _ = try await client.listWorkspaces(projectID: "p1") })
                let change = try #require(await TestSupport.cloudError { () async throws(CloudError) in
                    _ = try await client.unsubscribeResources(domainID: "d1", resourceIDs: ["r1"], reasonType: nil, reason: nil)
                })
                for error in [read, change] {
                    #expect(error.message.contains("unexpected redirect"), "\(error.message)")
                    #expect(error.classification == .permanent)
                }
                #expect(elsewhere.requests.isEmpty, "nothing went to the Location: \(elsewhere.requests.map(\.head))")
            }
        }
    }

    /// A 404 that is not the service's own "not found" (a proxy's HTML page, a load balancer's) says nothing about the
    /// resource: taken for "gone", it left pay-per-use servers running while the teardown reported them removed.
    @Test func aNotFoundPageFromAProxyIsNotGone() async throws {
        let html = Self.answer("404 Not Found", "<html><head><title>404 Not Found</title></head><body>nginx</body></html>", headers: [("Content-Type", "text/html")])
        try await RawHTTPServer.with(html) { server in
            let client = try TestSupport.client(baseURL: server.baseURL)
            let server1 = await TestSupport.cloudError { () async throws(CloudError) in _ = try await client.showServer(projectID: "p", serverID: "s") }
            let endpoint = await TestSupport.cloudError { () async throws(CloudError) in _ = try await client.showEndpoint(projectID: "p", endpointID: "e") }
            let job = await TestSupport.cloudError { () async throws(CloudError) in _ = try await client.showJob(projectID: "p", jobID: "j") }
            let cancel = await TestSupport.cloudError { () async throws(CloudError) in
                try await client.deletePayPerUseSubscriptions(projectID: "p", resourceIDs: ["r"])
            }
            #expect(server1 != nil && endpoint != nil && job != nil, "a proxy's 404 is an error, not nil")
            #expect(cancel != nil && cancel?.classification != .alreadyDone, "\(String(describing: cancel))")
        }
        // The services' own answers still mean gone.
        try await RawHTTPServer.with(Self.answer("404 Not Found", #"{"error":{"code":"Ecs.0114","message":"Instance[s] could not be found."}}"#)) { server in
            let gone = try await TestSupport.client(baseURL: server.baseURL).showServer(projectID: "p", serverID: "s")
            #expect(gone == nil)
        }
        try await RawHTTPServer.with(Self.answer("404 Not Found", #"{"error_code":"SecMaster.20040404","error_msg":"not found"}"#)) { server in
            let client = try TestSupport.client(baseURL: server.baseURL)
            let cancel = await TestSupport.cloudError { () async throws(CloudError) in
                try await client.deletePayPerUseSubscriptions(projectID: "p", resourceIDs: ["r"])
            }
            #expect(cancel?.classification == .alreadyDone)
        }
    }

    /// A delete answered 200 with a page that is not JSON (a captive portal) did not reach the API: no success.
    @Test func aDeleteAnsweredWithAnHTMLPageIsNoSuccess() async throws {
        let portal = Self.answer("200 OK", "<html><title>Portal login</title></html>", headers: [("Content-Type", "text/html")])
        try await RawHTTPServer.with(portal) { server in
            let client = try TestSupport.client(baseURL: server.baseURL)
            let endpoint = try #require(await TestSupport.cloudError { () async throws(CloudError) in try await client.deleteEndpoint(projectID: "p", endpointID: "e") })
            let cancel = try #require(await TestSupport.cloudError { () async throws(CloudError) in
                try await client.deletePayPerUseSubscriptions(projectID: "p", resourceIDs: ["r"])
            })
            for error in [endpoint, cancel] {
                #expect(error.message.contains("not JSON") && error.isRetryable, "\(error.message)")
            }
        }
    }

    /// An unsubscription answered with neither an order nor a failure for a resource (a proxy's `{}`) says nothing
    /// about what happened: it is an unreadable answer to a change (its outcome unknown), not a success that the step
    /// then repeated again and again.
    @Test func anUnsubscriptionAnsweredWithoutOrdersIsUnreadable() async throws {
        try await RawHTTPServer.with(Self.answer("200 OK", "{}")) { server in
            let client = try TestSupport.client(baseURL: server.baseURL)
            let error = try #require(await TestSupport.cloudError { () async throws(CloudError) in
                _ = try await client.unsubscribeResources(domainID: "d1", resourceIDs: ["r1", "r2"], reasonType: nil, reason: nil)
            })
            #expect(error.message.contains("without order_ids") && error.message.contains("r1, r2") && error.httpStatus == 200, "\(error.message)")
        }
        // Every resource refused, no order: BSS's own answer, read as such.
        let refused = #"{"fail_resource_infos":[{"resource_id":"r1","error_code":"CBC.30050010","error_msg":"unpaid"}]}"#
        try await RawHTTPServer.with(Self.answer("200 OK", refused)) { server in
            let result = try await TestSupport.client(baseURL: server.baseURL).unsubscribeResources(domainID: "d1", resourceIDs: ["r1"], reasonType: nil, reason: nil)
            #expect(result.orderIDs.isEmpty && result.failures.map(\.resourceID) == ["r1"])
        }
    }

    /// A security token (over a kilobyte) echoed by the server is cut short with the message before it is scrubbed:
    /// the part that survives the cut is redacted too.
    @Test func aLongTokenEchoedAndCutShortIsRedacted() async throws {
        let token = "gQpjbi1ub3J0aC00" + String((0..<1400).map { _ in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".randomElement()! })
        let credentials = HuaweiCredentials(accessKey: "AKTEST0000000001", secretKey: TestSupport.credentials.secretKey, securityToken: token)
        let body = #"{"error_code":"APIGW.0301","error_msg":"x-security-token \#(token) expired"}"#
        try await RawHTTPServer.with(Self.answer("401 Unauthorized", body)) { server in
            let client = try TestSupport.client(baseURL: server.baseURL, credentials: credentials)
            let error = try #require(await TestSupport.cloudError { () async throws(CloudError) in _ = try await client.listWorkspaces(projectID: "p1") })
            #expect(!error.description.contains(String(token.prefix(12))), "\(error.description)")
            #expect(error.message.contains("<redacted>"))
        }
    }

    @Test func secretsEchoedByTheCloudAreRedacted() async throws {
        let echo = "bad key \(TestSupport.credentials.secretKey) and token \(TestSupport.credentials.securityToken!)"
        let error = try await Self.readError(Self.answer("401 Unauthorized", #"{"error_code":"APIGW.0301","error_msg":"\#(echo)"}"#))
        Self.expectNoSecrets(error)
        #expect(error.message.contains("<redacted>"))
    }

    /// A success whose body cannot be read (a proxy's or a debugging endpoint's echo of the request) is quoted in the
    /// error: the credentials it echoes are redacted there too, not only in failures.
    @Test func secretsEchoedInAnUnreadableSuccessAreRedacted() async throws {
        let echo = "echo token=\(TestSupport.credentials.securityToken!) key=\(TestSupport.credentials.secretKey)"
        let error = try await Self.readError(Self.answer("200 OK", echo, headers: [("Content-Type", "text/plain")]))
        Self.expectNoSecrets(error)
        #expect(error.message.contains("<redacted>"), "\(error.message)")
    }

    @Test func requestCarriesSignedHeadersAndNoSecret() async throws {
        try await RawHTTPServer.with(Self.answer("204 No Content", "")) { server in
            let client = try TestSupport.client(baseURL: server.baseURL)
            try await client.deleteEndpoint(projectID: "proj-1", endpointID: "ep/../x")
            let head = try #require(server.requests.first?.head)
            // The id is one path segment, whatever it contains.
            #expect(head.hasPrefix("DELETE /v1/proj-1/vpc-endpoints/ep%2F..%2Fx HTTP/1.1"))
            let lower = head.lowercased()
            #expect(lower.contains("x-project-id: proj-1"))
            #expect(lower.contains("x-security-token: token-never-print-me-0001"))
            #expect(lower.contains("authorization: sdk-hmac-sha256 access=aktest0000000001, signedheaders=content-type;host;user-agent;x-project-id;x-request-nonce;x-sdk-date;x-security-token, signature="))
            #expect(!head.contains(TestSupport.credentials.secretKey))
        }
    }

    @Test func refusesOversizedBatchesBeforeSending() async throws {
        try await RawHTTPServer.with(Self.answer("200 OK", "{}")) { server in
            let client = try TestSupport.client(baseURL: server.baseURL)
            let tooMany = (0..<11).map { "r\($0)" }
            let error = try #require(await TestSupport.cloudError { () async throws(CloudError) in
                _ = try await client.unsubscribeResources(domainID: "d", resourceIDs: tooMany, reasonType: nil, reason: nil)
            })
            #expect(error.classification == .permanent && error.message.contains("1 to 10"))
            let none = try #require(await TestSupport.cloudError { () async throws(CloudError) in
                try await client.deletePayPerUseSubscriptions(projectID: "p", resourceIDs: [])
            })
            #expect(none.classification == .permanent)
            #expect(server.requests.isEmpty)
        }
    }
}
