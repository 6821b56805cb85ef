import Foundation
import Testing
import UnwindCore

/// Hostile or broken files must produce a clear error, never a crash or a hang.
@Suite("Hostile and malformed files")
struct HostileInputTests {
    private func messages(_ yaml: String) throws -> [String] {
        try #require(loadError(yaml)).issues.map(\.description)
    }

    @Test func duplicateKeyPointsAtTheRepeat() throws {
        #expect(try messages("""
            name: orders
            steps:
              - id: a
                action: test.noop
                id: b
            """) == ["workflows/orders.yaml:5: duplicate key 'id' in the same mapping (first defined at line 3)"])
        #expect(try messages("name: orders\nname: other\nsteps: [{id: a, action: test.noop}]\n")
            == ["workflows/orders.yaml:2: duplicate key 'name' in the same mapping (first defined at line 1)"])
    }

    @Test func mergeKeysAddTheAnchoredKeysAndExplicitKeysWin() throws {
        let definition = try WorkflowDefinitionLoader.load(yaml: """
            name: orders
            steps:
              - &base
                id: a
                action: test.noop
                retry: {max_attempts: 7}
                timeout: 5s
              - <<: *base
                id: b
                after: [a]
              - <<: [{id: c, timeout: 9s}, *base]
                after: [b]
            """, file: "workflows/orders.yaml", knownActions: knownActions)
        #expect(definition.steps.map(\.id) == ["a", "b", "c"])
        #expect(definition.steps.map(\.retry.maxAttempts) == [7, 7, 7])
        #expect(definition.steps.map(\.timeout) == [.seconds(5), .seconds(5), .seconds(9)], "the first listed mapping wins")
        #expect(try messages("name: orders\nsteps:\n  - <<: 3\n    id: a\n    action: test.noop\n")
            == ["workflows/orders.yaml:3: steps[0].<<: a merge key (<<) takes a mapping or a list of mappings, e.g. <<: *defaults"])
    }

    @Test func keysThatDifferOnlyByQuotingAreDuplicates() throws {
        // Yams treats `1` (int) and `"1"` (str) as different keys; for a definition they are the same.
        #expect(try messages("name: orders\n1: x\n\"1\": y\nsteps: [{id: a, action: test.noop}]\n")
            == ["workflows/orders.yaml:3: 1: duplicate key '1' (first defined at line 2)"])
    }

    @Test(.timeLimit(.minutes(1))) func billionLaughsIsRejected() throws {
        var yaml = "name: orders\nsteps: [{id: a, action: test.noop}]\nlol0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for level in 1...9 {
            let refs = Array(repeating: "*l\(level - 1)", count: 9).joined(separator: ", ")
            yaml += "lol\(level): &l\(level) [\(refs)]\n"
        }
        let error = try #require(loadError(yaml))
        #expect(error.issues.count == 1)
        #expect(error.issues[0].message.contains("more than 100000 YAML nodes"))
        #expect(error.issues[0].message.contains("alias bomb"))
        #expect(error.issues[0].line != nil)
    }

    @Test(.timeLimit(.minutes(1))) func aliasUsedAsKeyIsRejectedBeforeParsing() throws {
        // Yams hashes keys while composing, so an aliased bomb in key position would hang inside Yams.
        let yaml = "name: orders\nbomb: &b [x, x]\n*b : 1\nsteps: [{id: a, action: test.noop}]\n"
        #expect(try messages(yaml) == ["workflows/orders.yaml:3: aliases cannot be used as mapping keys in definition files"])
        #expect(try messages("a: &a [1]\n? *a\n: 2\n")
            == ["workflows/orders.yaml:2: complex mapping keys ('?') are not allowed in definition files"])
        #expect(try messages("a: &a [1]\n{[*a, *a]: 1}\n")
            == ["workflows/orders.yaml:2: lists and mappings cannot be used as mapping keys in definition files"])
        // Aliases as values are fine.
        #expect(loadError("""
            name: orders
            defaults:
              retry: &standard {max_attempts: 2}
            steps:
              - {id: a, action: test.noop, retry: *standard, description: "5 * 3: it's fine"}
            """) == nil)
    }

    /// An alias in key position inside a flow collection (`{*bomb}`, `{? *bomb}`, `[? *bomb]`) got past the line
    /// scanner, and Yams spent minutes hashing the expansion: refused before parsing now, and text that only looks
    /// like YAML (a block scalar, `*` or `[` inside plain text) is not mistaken for keys.
    @Test(.timeLimit(.minutes(1))) func aliasKeysInsideFlowCollectionsAreRejectedAtOnce() throws {
        var bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...10 {
            bomb += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        for (key, message) in [
            ("k: {*a10}", "aliases cannot be used as mapping keys"), ("k: {x: 1, *a10}", "aliases cannot be used as mapping keys"),
            ("k: {? *a10}", "complex mapping keys ('?')"), ("k: [? *a10]", "complex mapping keys ('?')"),
            ("k: [*a10 : 1]", "aliases cannot be used as mapping keys"), ("k: {[*a10]: 1}", "lists and mappings cannot be used"),
            ("k:\n  - *a10 : 1", "aliases cannot be used as mapping keys"),
            ("k: [?*a10]", "complex mapping keys ('?')"), ("k: {?*a10}", "complex mapping keys ('?')"),
            ("k: {don't: 1, *a10 : 2}", "aliases cannot be used as mapping keys"),
            ("k: [\"q\\\"\", {*a10 : 1}]", "aliases cannot be used as mapping keys"),
            ("k:\n  - d: |\n      text\n    *a10 : 1", "aliases cannot be used as mapping keys"),
        ] {
            let text = "name: orders\nsteps: [{id: a, action: test.noop}]\n" + bomb + key + "\n"
            let found = try messages(text)
            #expect(found.count == 1 && found[0].contains(message), "\(key): \(found)")
        }
        // Aliases as values, in flow collections and merges; and text that only looks like keys.
        #expect(loadError("""
            name: orders
            description: |
              ? who approves: the owner
              Steps [a, b]: see *runbook* and {*x}
            defaults:
              retry: &standard {max_attempts: 2}
            steps:
              - &base {id: a, action: test.noop, retry: *standard}
              - <<: [*base]
                id: b
                description: see *runbook* [1, 2] first
              - id: c
                action: test.noop
                description: "a quoted scalar
                  {region}: over two lines, and don't"
            """) == nil)
    }

    /// A NUL written as `\0` in a quoted string validated, then failed every submission when the definition was
    /// stored (PostgreSQL's text cannot hold it).
    @Test func aNULInAnyStringIsRefusedWithItsLine() throws {
        #expect(try messages("name: orders\ndescription: \"bad\\0desc\"\nsteps: [{id: a, action: test.noop}]\n")
            == ["workflows/orders.yaml:2: description: contains a NUL character (\\0); remove it"])
    }

    /// A max_length the field's pattern cannot check up to would let values pass it and then be refused.
    @Test func aMaxLengthBeyondWhatThePatternChecksIsRefused() throws {
        let heavy = String(repeating: "(a?){1000}", count: 4) + "b"
        let found = try messages("name: orders\ninputs:\n  s: {type: string, pattern: \"\(heavy)\", max_length: 100000}\nsteps: [{id: a, action: test.noop}]\n")
        #expect(found.count == 1 && found[0].contains("inputs.s.max_length: is 100000, more than this field's pattern checks"), "\(found)")
    }

    @Test func anAcceptInputThatIsNotAListIsRefused() throws {
        #expect(try messages("name: orders\ninputs:\n  accept: {type: string, default: none}\nsteps: [{id: a, action: test.noop}]\n")
            == ["workflows/orders.yaml:3: inputs.accept.type: the 'accept' input holds the acknowledgements given with --accept: declare it `type: array` (with an `enum` of the flags)"])
    }

    @Test func deepNestingIsRejected() throws {
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        let issues = try #require(loadError("name: orders\nsteps: \(deep)\n")).issues
        #expect(issues.map(\.message) == ["nesting is deeper than 64 levels; refusing to load it"])
        #expect(issues.first?.line == 2)

        let deeper = String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)
        let parserIssues = try #require(loadError("name: orders\nsteps: \(deeper)\n")).issues
        #expect(parserIssues.map(\.message) == ["nesting is deeper than the YAML parser allows; refusing to load it"])
        #expect(parserIssues.first?.line == 2)
    }

    @Test func invalidYAMLReportsParserLine() throws {
        let issues = try #require(loadError("name: orders\nsteps:\n  - id: a\n    action: [test.noop\n")).issues
        #expect(issues.count == 1)
        #expect(issues[0].message.hasPrefix("invalid YAML: "))
        #expect(issues[0].line == 5)

        let tabs = try #require(loadError("name: orders\nsteps:\n\t- id: a\n")).issues
        #expect(tabs[0].line == 3)
    }

    @Test func controlCharactersAreAReaderError() throws {
        let issues = try #require(loadError("name: orders\nsteps:\n  - id: a\u{1}\n")).issues
        #expect(issues.count == 1)
        #expect(issues[0].message.hasPrefix("invalid YAML input: "))
        #expect(issues[0].line == 3)
    }

    @Test func nonStringKeysAreRejected() throws {
        #expect(try messages("name: orders\n[a, b]: 1\nsteps: [{id: a, action: test.noop}]\n")
            == ["workflows/orders.yaml:2: mapping keys must be plain strings, not lists or mappings"])
    }

    @Test func oversizeStringIsRejected() throws {
        let yaml = "name: orders\n# " + String(repeating: "x", count: WorkflowDefinitionLoader.maximumFileSize) + "\n"
        #expect(try messages(yaml) == [
            "workflows/orders.yaml: file is \(yaml.utf8.count) bytes; definition files are limited to 1048576 bytes (1 MiB)",
        ])
    }

    @Test func fileErrors() throws {
        let directory = try makeTemporaryDirectory()
        defer { directory.remove() }
        func load(_ name: String) -> [String] {
            do {
                _ = try WorkflowDefinitionLoader.load(contentsOf: "\(directory.path)/\(name)", knownActions: knownActions)
                return []
            } catch {
                return error.issues.map { $0.description.replacingOccurrences(of: directory.path, with: "DIR") }
            }
        }

        #expect(load("missing.yaml") == ["DIR/missing.yaml: file not found"])

        try FileManager.default.createDirectory(atPath: "\(directory.path)/dir.yaml", withIntermediateDirectories: false)
        #expect(load("dir.yaml") == ["DIR/dir.yaml: is a directory, not a definition file"])

        let big = Data(repeating: UInt8(ascii: "#"), count: WorkflowDefinitionLoader.maximumFileSize + 10)
        try big.write(to: URL(fileURLWithPath: "\(directory.path)/big.yaml"))
        #expect(load("big.yaml") == ["DIR/big.yaml: file is larger than 1048576 bytes (1 MiB); definition files are limited to that size"])

        try Data("name: latin\n".utf8 + [0x23, 0x20, 0xE9, 0x74, 0xE9, 0x0A]).write(to: URL(fileURLWithPath: "\(directory.path)/latin.yaml"))
        #expect(load("latin.yaml") == ["DIR/latin.yaml:2: file is not valid UTF-8 (first bad byte at offset 14); save it as UTF-8"])

        try Data("name: good\nsteps: [{id: a, action: test.noop}]\n".utf8).write(to: URL(fileURLWithPath: "\(directory.path)/good.yaml"))
        #expect(load("good.yaml") == [])
        let good = try WorkflowDefinitionLoader.load(contentsOf: "\(directory.path)/good.yaml", knownActions: knownActions)
        #expect(good.contentHash == WorkflowDefinitionLoader.contentHash(of: "name: good\nsteps: [{id: a, action: test.noop}]\n"))
    }

    @Test func catalogLoadsDirectoryAndReportsDuplicateNames() throws {
        let directory = try makeTemporaryDirectory()
        defer { directory.remove() }
        func write(_ name: String, _ text: String) throws {
            try Data(text.utf8).write(to: URL(fileURLWithPath: "\(directory.path)/\(name)"))
        }
        try write("alpha.yaml", "name: alpha\nsteps: [{id: a, action: test.noop}]\n")
        try write("alpha.yml", "name: alpha\nsteps: [{id: b, action: test.noop}]\n")
        try write("beta.yml", "name: beta\nsteps: [{id: a, action: test.nope}]\n")
        try write("gamma.yaml", "name: gamma\nsteps: [{id: a, action: test.sleep}]\n")
        try write("notes.txt", "not a workflow")

        let catalog = WorkflowCatalog.load(directory: directory.path, knownActions: knownActions)
        #expect(catalog.definitions.map(\.name) == ["alpha", "gamma"])
        let messages = catalog.errors.flatMap(\.issues).map { $0.description.replacingOccurrences(of: directory.path, with: "DIR") }
        #expect(messages == [
            "DIR/alpha.yml: name: workflow name 'alpha' is already defined in DIR/alpha.yaml",
            "DIR/beta.yml:2: steps[0].action: unknown action 'test.nope'; did you mean 'test.noop'?",
        ])

        let missing = WorkflowCatalog.load(directory: directory.path + "/nope", knownActions: knownActions)
        #expect(missing.definitions.isEmpty)
        #expect(missing.errors.count == 1)
    }
}

@Suite("Hostile files: size of the graph and of values")
struct HostileScaleTests {
    @Test(.timeLimit(.minutes(1))) func hugeIdentifiersAreNotEchoedOrCompared() throws {
        let long = String(repeating: "a", count: 400_000)
        let error = try #require(loadError("name: orders\nsteps:\n  - {id: a, action: \(long), after: [\(long)]}\n"))
        #expect(error.issues.count == 1)
        #expect(error.issues[0].message.count < 200)
        #expect(error.issues[0].message.hasPrefix("unknown action 'aaaa"))
    }

    @Test(.timeLimit(.minutes(1))) func tooManySteps() throws {
        let steps = (0...1000).map { "  - {id: s\($0), action: test.noop, after: [x\($0)]}" }.joined(separator: "\n")
        let error = try #require(loadError("name: orders\nsteps:\n\(steps)\n"))
        #expect(error.issues.map(\.description) == ["workflows/orders.yaml:3: steps: a workflow may have at most 1000 steps, this one has 1001"])
    }

    @Test(.timeLimit(.minutes(1))) func manyMissingReferencesStayFast() throws {
        let steps = (0..<1000).map { "  - {id: step-\($0), action: test.noop, after: [stpe-\($0)]}" }.joined(separator: "\n")
        let error = try #require(loadError("name: orders\nsteps:\n\(steps)\n"))
        #expect(error.issues.count == 1000)
        #expect(error.issues[0].description == "workflows/orders.yaml:3: steps[0].after: step 'stpe-0' does not exist; did you mean 'step-0'?")
    }

    /// Random byte-level mutations of a valid file must never crash or hang the loader.
    @Test(.timeLimit(.minutes(2))) func mutatedFilesNeverCrash() {
        var generator = SplitMix64(seed: 0x5EED)
        let base = Array(DefinitionLoaderTests.linear.utf8)
        let alphabet = Array("[]{}:-&*!|>'\"#?,\n \t%@`~0aZ.".utf8)
        var loaded = 0
        for _ in 0..<400 {
            var bytes = base
            for _ in 0..<(1 + Int(generator.next() % 6)) {
                let position = Int(generator.next() % UInt64(bytes.count))
                switch generator.next() % 3 {
                case 0: bytes.remove(at: position)
                case 1: bytes.insert(alphabet[Int(generator.next() % UInt64(alphabet.count))], at: position)
                default: bytes[position] = alphabet[Int(generator.next() % UInt64(alphabet.count))]
                }
            }
            let text = String(decoding: bytes, as: UTF8.self)
            if loadError(text) == nil { loaded += 1 }
        }
        // Some mutations only touch comments or descriptions; most must be rejected, none may crash.
        #expect(loaded < 400)
    }
}

/// Small deterministic PRNG so the mutation test is reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
