import Foundation
import Testing
import UnwindTesting

/// Where Chromium is, and whether it really starts (not just whether a file exists).
enum Chromium {
    static let executable: String? = {
        let environment = ProcessInfo.processInfo.environment
        let candidates = [environment["UNWIND_TEST_CHROMIUM"], "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        for case let candidate? in candidates where FileManager.default.isExecutableFile(atPath: candidate) {
            let output = runCommand(candidate, ["--headless", "--no-sandbox", "--disable-gpu", "--version"])
            if output.status == 0 && output.stdout.lowercased().contains("chrom") { return candidate }
        }
        return nil
    }()

    static var available: Bool { executable != nil }

    /// scripts/test.sh installs Chromium and sets this, so there a missing browser fails instead of skipping.
    static var required: Bool { ProcessInfo.processInfo.environment["UNWIND_TEST_REQUIRE_BROWSER"] == "1" }

    /// `chromium --dump-dom` after the page's scripts ran (virtual time lets timers and fetches settle).
    static func dumpDOM(_ url: String) -> CommandOutput {
        runCommand(executable!, [
            "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--disable-dev-shm-usage",
            "--user-data-dir=\(NSTemporaryDirectory())unwind-chromium-\(UUID().uuidString.prefix(8))",
            "--virtual-time-budget=5000", "--dump-dom", url,
        ])
    }
}

@Suite("Dashboard in a real browser", .enabled(if: TestEnvironment.hasDatabase), .serialized)
struct DashboardBrowserTests {
    static let hostile = #"<img src=x onerror="window.__unwindXSS=true"><script>window.__unwindXSS=true</script>"# + "\u{1b}[31m\u{202e}"

    @Test("Chromium is installed where the test script requires it")
    func chromiumPresent() {
        if Chromium.required {
            #expect(Chromium.available, "UNWIND_TEST_REQUIRE_BROWSER=1 but Chromium cannot run; install the Debian package 'chromium'")
        }
    }

    @Test("the list page renders workflows, state filters and counts (chromium --dump-dom)",
          .enabled(if: Chromium.available, "Chromium cannot run here (install the Debian package 'chromium'); skipping the browser check"))
    func listPage() async throws {
        let harness = try await ServerHarness(publicReads: true)
        harness.engine.startWorker()
        let done = try await harness.submit("saga", input: ["account": "dom-1", "note": Self.hostile])
        let failed = try await harness.submit("saga", input: ["account": "dom-2", "test": ["finish": ["fail": "permanent"]]])
        try await harness.engine.waitFor(done, in: ["succeeded"])
        try await harness.engine.waitFor(failed, in: ["failed"])

        let list = Chromium.dumpDOM(harness.baseURL + "/")
        #expect(list.status == 0, "\(list.stderr.suffix(2000))")
        let html = list.stdout
        #expect(html.contains(#"data-loaded="true""#), "the script did not finish loading: \(html.prefix(3000))")
        #expect(html.contains(#"data-id="\#(done.uuidString.lowercased())""#))
        #expect(html.contains(#"data-id="\#(failed.uuidString.lowercased())""#))
        #expect(html.contains(#"data-state="failed""#))
        // Counts next to the filters: one failed, one succeeded, two in all.
        #expect(html.contains(#"data-state="failed">failed<span class="count">1</span>"#), "\(html.prefix(4000))")
        #expect(html.contains(#"data-state="all">all<span class="count">2</span>"#))

        let filtered = Chromium.dumpDOM(harness.baseURL + "/?state=failed").stdout
        #expect(filtered.contains(failed.uuidString.lowercased()))
        #expect(!filtered.contains(#"data-id="\#(done.uuidString.lowercased())""#))

        // The workflow page shows the hostile input as text: no element made from it, the control characters escaped.
        let page = Chromium.dumpDOM(harness.baseURL + "/workflows/\(done.uuidString.lowercased())").stdout
        #expect(page.contains(#"id="steps""#), "\(page.prefix(3000))")
        #expect(page.contains("&lt;img src=x onerror="), "the input is shown escaped")
        #expect(!page.contains("<img src=\"x\""), "no element was made from the input")
        // JSON.stringify escapes C0 controls itself; the page escapes the rest (here a right-to-left override).
        #expect(page.contains(#"\u001b[31m"#) && page.contains(#"\u{202e}"#), "control characters are shown, not obeyed")
        #expect(page.contains(#"data-step="commit""#) && page.contains("workflow_succeeded"))
        await harness.stop()
    }

    @Test("an operator resumes a failed workflow from its page (Chromium over the DevTools protocol)",
          .enabled(if: Chromium.available, "Chromium cannot run here (install the Debian package 'chromium'); skipping the browser check"))
    func resumeFromThePage() async throws {
        let harness = try await ServerHarness()
        harness.engine.startWorker()
        let flag = try TestEnvironment.makeScratchDirectory("browser") + "/broken"
        _ = FileManager.default.createFile(atPath: flag, contents: Data())
        let id = try await harness.submit("saga", input: [
            "account": "browser-1", "note": Self.hostile,
            "test": ["finish": ["fail": "permanent", "while_file_exists": flag]],
        ])
        try await harness.engine.waitFor(id, in: ["failed"])
        // The operator fixed the cause; now they resume from the dashboard.
        try FileManager.default.removeItem(atPath: flag)

        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path + "/browser/drive.py"
        let screenshot = ProcessInfo.processInfo.environment["UNWIND_DASHBOARD_SCREENSHOT"]
        let output = await runCommand("/usr/bin/env", ["python3", script, Chromium.executable!, harness.baseURL, id.uuidString.lowercased(),
                                                 ServerHarness.token, "fixed by hand <b>really</b>", "carol"] + (screenshot.map { [$0] } ?? []))
        #expect(output.status == 0, "\(output.stderr.suffix(3000))")
        let seen = try #require(try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any], "\(output.combined)")
        #expect(seen["list_has_workflow"] as? Bool == true)
        #expect(seen["state_before"] as? String == "failed")
        #expect((seen["title"] as? String)?.hasPrefix("saga") == true)
        #expect((seen["input_text"] as? String)?.contains("<img src=x onerror=") == true)
        #expect(seen["images_in_page"] as? Int == 0)
        #expect(seen["xss_ran"] as? Bool == false)
        #expect(seen["failed_steps"] as? [String] == ["finish"])
        #expect((seen["step_error"] as? String)?.isEmpty == false)
        #expect((seen["notice"] as? String)?.contains("resume accepted") == true, "\(seen)")
        #expect(seen["state_after"] as? String == "succeeded")
        #expect(seen["history_has_resume"] as? Bool == true)

        // The resume went through the API with the operator's name and reason.
        let event = try #require(try harness.store.events(of: id).first { $0.kind == "resume_requested" })
        #expect(event.actor == "api:carol")
        #expect(event.reason == "fixed by hand <b>really</b>")
        await harness.stop()
    }
}
