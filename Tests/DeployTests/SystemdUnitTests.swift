import Foundation
import Testing
import UnwindTesting

/// deploy/systemd: the units pass `systemd-analyze verify` (no warnings either), carry the hardening the README
/// promises, and the binaries run under the restriction most likely to break a runtime (W^X memory).
@Suite("systemd units")
struct SystemdUnitTests {
    static let directory = "deploy/systemd"
    static let units = ["unwind-worker@.service", "unwind-serve.service", "unwind-migrate.service"]
    static var analyze: String? {
        ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// `Key=value` lines per section; repeated keys keep every value.
    func parse(_ unit: String) throws -> [String: [String: [String]]] {
        var sections: [String: [String: [String]]] = [:]
        var current = ""
        for raw in try DeployFiles.text(Self.directory + "/" + unit).split(separator: "\n", omittingEmptySubsequences: true) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("#") || line.hasPrefix(";") || line.isEmpty { continue }
            if line.hasPrefix("[") { current = String(line.dropFirst().dropLast()); continue }
            guard let equals = line.firstIndex(of: "=") else { continue }
            sections[current, default: [:]][String(line[..<equals]), default: []].append(String(line[line.index(after: equals)...]))
        }
        return sections
    }

    /// A throwaway root holding the distribution's units (for sysinit.target & co.), ours in /etc, and a stub
    /// /usr/local/bin/unwind: verify checks that ExecStart= exists, and the real binary is not installed here.
    func verifyRoot() throws -> String {
        let root = try TestEnvironment.makeScratchDirectory("systemd-root")
        let manager = FileManager.default
        try manager.createDirectory(atPath: root + "/usr/lib/systemd", withIntermediateDirectories: true)
        try manager.createDirectory(atPath: root + "/etc/systemd", withIntermediateDirectories: true)
        try manager.createDirectory(atPath: root + "/usr/local/bin", withIntermediateDirectories: true)
        let system = ["/usr/lib/systemd/system", "/lib/systemd/system"].first { manager.fileExists(atPath: $0 + "/sysinit.target") }
        try manager.copyItem(atPath: try #require(system, "the distribution's units (systemd package)"), toPath: root + "/usr/lib/systemd/system")
        try manager.createDirectory(atPath: root + "/etc/systemd/system", withIntermediateDirectories: true)
        for unit in Self.units {
            try manager.copyItem(atPath: DeployFiles.deploy + "/systemd/" + unit, toPath: root + "/etc/systemd/system/" + unit)
        }
        try "#!/bin/sh\nexit 0\n".write(toFile: root + "/usr/local/bin/unwind", atomically: true, encoding: .utf8)
        chmod(root + "/usr/local/bin/unwind", 0o755)
        return root
    }

    @Test(.enabled(if: SystemdUnitTests.analyze != nil, "systemd-analyze (Debian package systemd) is not installed"))
    func systemdAnalyzeVerifyPassesWithoutWarnings() async throws {
        let root = try verifyRoot()
        // Two instances of the template, as `systemctl enable --now unwind-worker@{1..4}` makes.
        let names = ["unwind-worker@1.service", "unwind-worker@2.service", "unwind-serve.service", "unwind-migrate.service"]
        let result = await runCommand(try #require(Self.analyze), ["verify", "--root=\(root)", "--man=no", "--generators=no"] + names)
        // verify exits 0 on unknown keys and unparsable values: it only warns, so any output is a failure.
        #expect(result.status == 0, "\(result.combined)")
        #expect(result.combined.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "systemd-analyze verify warned:\n\(result.combined)")

        // And it does catch mistakes: a unit with a typo must produce a warning.
        let broken = root + "/etc/systemd/system/unwind-broken.service"
        try (try DeployFiles.text(Self.directory + "/unwind-serve.service") + "\n[Service]\nRestartSecs=5\n")
            .write(toFile: broken, atomically: true, encoding: .utf8)
        let check = await runCommand(try #require(Self.analyze), ["verify", "--root=\(root)", "--man=no", "--generators=no", "unwind-broken.service"])
        #expect(check.combined.contains("RestartSecs"), "the verify setup must report an unknown key: \(check.combined)")
    }

    /// systemd's own hardening score (0 = locked down, 10 = exposed) stays "OK"; `--threshold` counts tenths.
    @Test(.enabled(if: SystemdUnitTests.analyze != nil, "systemd-analyze (Debian package systemd) is not installed"))
    func systemdAnalyzeSecurityRatesEveryUnitOK() async throws {
        let root = try verifyRoot()
        for unit in ["unwind-worker@1.service", "unwind-serve.service", "unwind-migrate.service"] {
            let result = await runCommand(try #require(Self.analyze), ["security", "--offline=true", "--root=\(root)", "--threshold=20", "--no-pager", unit])
            let verdict = result.stdout.split(separator: "\n").last { $0.contains("Overall exposure level") } ?? "no verdict"
            #expect(result.status == 0, "\(unit): exposure above 2.0: \(verdict)\n\(result.stderr)")
        }
    }

    @Test(arguments: ["unwind-worker@.service", "unwind-serve.service"])
    func longRunningUnitsAreHardened(unit: String) async throws {
        let service = try parse(unit)["Service"] ?? [:]
        func value(_ key: String) -> String? { service[key]?.last }
        let expected: [String: String] = [
            "NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
            "PrivateDevices": "yes", "MemoryDenyWriteExecute": "yes",
            "CapabilityBoundingSet": "", "KillSignal": "SIGTERM", "Restart": "on-failure", "DynamicUser": "yes",
            "ProtectKernelTunables": "yes", "ProtectKernelModules": "yes", "ProtectControlGroups": "yes",
            "RestrictNamespaces": "yes", "LockPersonality": "yes", "RestrictSUIDSGID": "yes",
        ]
        for (key, wanted) in expected {
            #expect(value(key) == wanted, "\(unit): \(key)=\(wanted) expected, found \(value(key) ?? "<unset>")")
        }
        // Repeated SystemCallFilter= lines combine: the allow list, then what is taken out of it.
        #expect(service["SystemCallFilter"] == ["@system-service", "~@privileged"], "\(unit): \(service["SystemCallFilter"] ?? [])")
        #expect(value("RestrictAddressFamilies")?.split(separator: " ").sorted() == ["AF_INET", "AF_INET6", "AF_UNIX"], "\(unit)")
        #expect(value("ExecStart")?.hasPrefix("/usr/local/bin/unwind ") == true, "\(unit): ExecStart")
        #expect(service["LoadCredential"]?.isEmpty == false, "\(unit): secrets come through LoadCredential=")
        let unitSection = try parse(unit)["Unit"] ?? [:]
        #expect(unitSection["StartLimitBurst"] != nil && unitSection["StartLimitIntervalSec"] != nil, "\(unit): restart limits")
        for line in service["Environment"] ?? [] {
            let name = String(line.split(separator: "=").first ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            #expect(!looksLikeSecretName(name), "\(unit): \(name) carries a secret inline")
        }
    }

    @Test func theWorkerTemplateStopsAfterItsGraceAndNamesItselfAfterTheInstance() async throws {
        let service = try parse("unwind-worker@.service")["Service"] ?? [:]
        let exec = try #require(service["ExecStart"]?.last)
        let arguments = exec.split(separator: " ").map(String.init)
        #expect(flagValue("--worker-id", in: arguments)?.contains("%i") == true, "the instance name goes into the worker ID: \(exec)")
        // --grace comes from the environment (default in the unit); TimeoutStopSec must be longer than it.
        let grace = try #require(service["Environment"]?.compactMap { line -> Double? in
            let parts = line.trimmingCharacters(in: CharacterSet(charactersIn: "\"")).split(separator: "=", maxSplits: 1)
            return parts.count == 2 && parts[0] == "UNWIND_WORKER_GRACE" ? durationSeconds(String(parts[1])) : nil
        }.last, "Environment=UNWIND_WORKER_GRACE=… default")
        #expect(exec.contains("--grace ${UNWIND_WORKER_GRACE}"))
        let stop = try #require(service["TimeoutStopSec"]?.last.flatMap(durationSeconds))
        #expect(stop > grace, "TimeoutStopSec \(stop)s must exceed --grace \(grace)s")
        let unitSection = try parse("unwind-worker@.service")["Unit"] ?? [:]
        #expect(unitSection["After"]?.joined(separator: " ").contains("unwind-migrate.service") == true)
        #expect(unitSection["Wants"]?.joined(separator: " ").contains("unwind-migrate.service") == true)
    }

    @Test func migrateIsAOneShotBeforeWorkersAndServer() async throws {
        let sections = try parse("unwind-migrate.service")
        #expect(sections["Service"]?["Type"]?.last == "oneshot")
        #expect(sections["Service"]?["RemainAfterExit"]?.last == "yes", "so Wants=/After= of later starts do not re-run it")
        #expect(sections["Service"]?["ExecStart"]?.last?.hasPrefix("/usr/local/bin/unwind migrate") == true)
        let before = sections["Unit"]?["Before"]?.joined(separator: " ") ?? ""
        #expect(before.contains("unwind-serve.service"))
        #expect(try parse("unwind-serve.service")["Unit"]?["After"]?.joined(separator: " ").contains("unwind-migrate.service") == true)
    }

    /// The env example: every variable is known, and none carries a secret (secrets come as files).
    @Test func theEnvironmentExampleHasNoSecrets() async throws {
        let text = try DeployFiles.text(Self.directory + "/unwind.env.example")
        var names: [String] = []
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty else { continue }
            // Commented-out examples are checked too: people uncomment them.
            let assignment = line.hasPrefix("#") ? line.drop { $0 == "#" || $0 == " " } : Substring(line)
            guard let equals = assignment.firstIndex(of: "="),
                  assignment[..<equals].allSatisfy({ $0.isUppercase || $0.isNumber || $0 == "_" }), equals != assignment.startIndex
            else { continue }
            let name = String(assignment[..<equals])
            let value = String(assignment[assignment.index(after: equals)...])
            names.append(name)
            if looksLikeSecretName(name) {
                #expect(value.isEmpty, "\(name) carries a secret in the env file; use a *_FILE variable or LoadCredential=")
            }
            #expect(!urlCarriesPassword(value), "\(name) has a password in its URL")
            // Long random-looking values are keys, whatever the variable is called.
            let compact = value.filter { $0.isLetter || $0.isNumber }
            #expect(!(compact.count >= 32 && compact == value && Set(value).count > 12), "\(name)=\(value) looks like a key")
        }
        for required in ["UNWIND_DATABASE_URL", "UNWIND_DATABASE_PASSWORD_FILE", "UNWIND_LOG_FORMAT", "UNWIND_METRICS_PORT",
                         "UNWIND_API_TOKEN_FILE", "UNWIND_CREDENTIALS_FILE", "UNWIND_WORKFLOWS_DIR"] {
            #expect(names.contains(required), "the example documents \(required)")
        }
    }

    /// MemoryDenyWriteExecute= forbids writable+executable memory. Swift compiles ahead of time, so the binaries
    /// must run under the kernel's equivalent (prctl PR_SET_MDWE, inherited across exec, Linux 6.3+).
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: TestEnvironment.binDirectory + "/unwind")))
    func theBinariesRunWithWriteXorExecuteMemory() async throws {
        let wrapper = """
            import ctypes, mmap, os, sys
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(65, 1, 0, 0, 0) != 0:  # PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN
                print("MDWE-UNSUPPORTED"); sys.exit(0)
            try:  # the restriction is really on: a writable+executable mapping is refused
                mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
                print("MDWE-NOT-ENFORCED"); sys.exit(3)
            except OSError:
                pass
            os.execv(sys.argv[1], sys.argv[1:])
            """
        let python = try #require(["/usr/bin/python3", "/usr/local/bin/python3"].first { FileManager.default.isExecutableFile(atPath: $0) })
        let unwind = TestEnvironment.binDirectory + "/unwind"
        let definitions = try FileManager.default.contentsOfDirectory(atPath: DeployFiles.root + "/workflows")
            .filter { $0.hasSuffix(".yaml") }.sorted().map { DeployFiles.root + "/workflows/" + $0 }
        #expect(!definitions.isEmpty)
        let validate = await runCommand(python, ["-c", wrapper, unwind, "workflows", "validate"] + definitions)
        if validate.stdout.contains("MDWE-UNSUPPORTED") { return }  // kernel older than 6.3: nothing to prove here
        #expect(validate.status == 0, "unwind under MDWE: \(validate.combined)")
        let cloudsimHelp = await runCommand(python, ["-c", wrapper, TestEnvironment.binDirectory + "/unwind-cloudsim", "--help"])
        #expect(cloudsimHelp.status == 0, "unwind-cloudsim under MDWE: \(cloudsimHelp.combined)")
        if TestEnvironment.hasDatabase {
            // A real connection (libpq, TLS library, Dispatch threads) under the same restriction.
            let doctor = await runCommand(python, ["-c", wrapper, unwind, "doctor", "--database-url", TestEnvironment.url(database: "postgres")])
            #expect(doctor.combined.contains("connection"), "\(doctor.combined)")
            #expect(doctor.status < 128, "killed by a signal under MDWE: \(doctor.combined)")
        }
    }
}
