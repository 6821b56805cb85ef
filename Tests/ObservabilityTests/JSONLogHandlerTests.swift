import Foundation
import Logging
import Synchronization
import Testing
@testable import UnwindObservability

@Suite("JSON log lines")
struct JSONLogHandlerTests {
    /// Collects what the handler writes.
    final class Lines: Sendable {
        private let lines = Mutex<[String]>([])
        func append(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    static func object(_ line: String) throws -> [String: Any] {
        let parsed = try JSONSerialization.jsonObject(with: Data(line.utf8))
        return try #require(parsed as? [String: Any])
    }

    @Test func aLineCarriesTheFixedKeysAndTheFlattenedMetadata() throws {
        let lines = Lines()
        var logger = Logger(label: "unwind.worker") { label in
            JSONLogHandler(label: label, level: .debug, write: { lines.append($0) })
        }
        logger[metadataKey: "worker.id"] = "host:42:abc"
        logger.info("attempt failed", metadata: [
            "workflow.id": "0b4c", "step.id": "reserve", "step.attempt": "2",
            "cloud": ["service": "bss", "request": ["id": "r-1"]],
            "ids": ["a", "b"],
        ])
        let written = try #require(lines.all.first)
        #expect(written.hasSuffix("\n"))
        #expect(written.dropLast().contains("\n") == false, "one line per entry")
        let object = try Self.object(written)
        #expect(object["level"] as? String == "info")
        #expect(object["label"] as? String == "unwind.worker")
        #expect(object["message"] as? String == "attempt failed")
        #expect(object["source"] as? String == "ObservabilityTests")
        #expect(object["worker.id"] as? String == "host:42:abc")
        #expect(object["workflow.id"] as? String == "0b4c")
        #expect(object["step.id"] as? String == "reserve")
        #expect(object["step.attempt"] as? String == "2")
        #expect(object["cloud.service"] as? String == "bss")
        #expect(object["cloud.request.id"] as? String == "r-1")
        #expect(object["ids"] as? [String] == ["a", "b"])
        let ts = try #require(object["ts"] as? String)
        #expect(ts.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/) != nil, "\(ts)")
    }

    @Test func controlCharactersQuotesAndBackslashesAreEscaped() throws {
        let nasty = "line one\nline two\r\t\"quoted\" back\\slash \u{0}\u{1}\u{1B}[31mred\u{7F} \u{2028}end ünïcødé 🙂"
        let line = JSONLogHandler.line(
            epochMilliseconds: 0, level: .error, label: "l", message: nasty, source: "s",
            metadata: ["error": .string(nasty), "key\nwith\"newline": "v"])
        #expect(!line.contains("\n"))
        #expect(!line.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F })
        let object = try Self.object(line)
        #expect(object["message"] as? String == nasty, "round-trips exactly")
        #expect(object["error"] as? String == nasty)
        #expect(object["key\nwith\"newline"] as? String == "v")
        #expect(line.contains(#"\u0000"#) && line.contains(#"\u001b"#) && line.contains(#"\u007f"#))
    }

    @Test func timestampsAreUTCWithMilliseconds() {
        #expect(JSONLogHandler.timestamp(epochMilliseconds: 0) == "1970-01-01T00:00:00.000Z")
        #expect(JSONLogHandler.timestamp(epochMilliseconds: 1_796_223_867_045) == "2026-12-02T15:04:27.045Z")
        #expect(JSONLogHandler.timestamp(epochMilliseconds: 951_782_400_999) == "2000-02-29T00:00:00.999Z")
    }

    @Test func metadataCannotOverwriteTheFixedKeys() throws {
        let line = JSONLogHandler.line(
            epochMilliseconds: 0, level: .info, label: "real", message: "real message", source: "src",
            metadata: ["message": "forged", "level": "critical", "ts": "then"])
        let object = try Self.object(line)
        #expect(object["message"] as? String == "real message")
        #expect(object["level"] as? String == "info")
        #expect(object["metadata.message"] as? String == "forged")
        #expect(object["metadata.level"] as? String == "critical")
        #expect(object["metadata.ts"] as? String == "then")
    }

    @Test func laterMetadataWinsAndErrorsAreIncluded() throws {
        struct Broken: Error, CustomStringConvertible { var description: String { "disk on fire" } }
        let lines = Lines()
        var handler = JSONLogHandler(label: "x", level: .trace, metadataProvider: .init { ["trace.id": "t-1", "step.id": "from-provider"] }, write: { lines.append($0) })
        handler.metadata = ["step.id": "from-handler", "worker.id": "w"]
        handler.log(event: LogEvent(
            level: .warning, message: "m", metadata: ["step.id": "from-call"], source: "src", file: #fileID, function: #function, line: #line))
        var object = try Self.object(try #require(lines.all.first))
        #expect(object["step.id"] as? String == "from-call")
        #expect(object["trace.id"] as? String == "t-1")
        #expect(object["worker.id"] as? String == "w")

        var withError = LogEvent(level: .error, message: "failed", metadata: nil, source: "src", file: #fileID, function: #function, line: #line)
        withError.error = Broken()
        handler.log(event: withError)
        object = try Self.object(lines.all[1])
        #expect(object["error"] as? String == "disk on fire")
    }
}
