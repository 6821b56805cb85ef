import Foundation
import Testing
import UnwindCore

@Suite("Lower-case UUIDs in JSON")
struct LowercaseUUIDTests {
    struct Record: Codable, Equatable {
        @LowercaseUUID var id: UUID
        var name: String
    }

    @Test func anIDIsWrittenInLowerCaseAndReadInEitherCase() throws {
        let id = UUID()
        let record = Record(id: id, name: "x")
        let text = String(decoding: try JSONEncoder().encode(record), as: UTF8.self)
        #expect(text.contains("\"\(id.uuidString.lowercased())\""))
        #expect(!text.contains(id.uuidString))
        #expect(try JSONDecoder().decode(Record.self, from: Data(text.utf8)) == record)
        let upper = "{\"id\":\"\(id.uuidString)\",\"name\":\"x\"}"
        #expect(try JSONDecoder().decode(Record.self, from: Data(upper.utf8)).id == id)
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(Record.self, from: Data("{\"id\":\"not-a-uuid\",\"name\":\"x\"}".utf8))
        }
    }
}
