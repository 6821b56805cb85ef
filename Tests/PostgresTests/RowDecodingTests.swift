import Foundation
import Postgres
import Testing
import UnwindTesting

@Suite("Typed rows", .enabled(if: TestEnvironment.hasDatabase))
struct RowDecodingTests {
    struct Payload: Codable, Equatable, Sendable {
        var name: String
        var count: Int
        var tags: [String]
    }

    @Test func roundTripsEverySupportedType() async throws {
        let connection = try await TestDatabase.create().connect()
        let id = UUID()
        let when = Date(timeIntervalSince1970: 1_795_000_000.123456)
        let payload = Payload(name: "quota \"x\" ü", count: 3, tags: ["a", "b,c"])
        let row = try #require(try connection.query("""
            SELECT $1::text AS text, $2::bigint AS big, $3::int AS small, $4::boolean AS flag,
                   $5::double precision AS ratio, $6::timestamptz AS at, $7::uuid AS id, $8::jsonb AS payload,
                   $9::text AS absent, $10::text[] AS list, cardinality($10::text[]) AS list_count
            """,
            ["it's \"quoted\"\n; DROP TABLE x", Int64.max, Int32.min, true, 0.1, when, id, PostgresJSON(payload),
             Optional<String>.none, ["x", "y\"z", "back\\slash"]],
            name: "round_trip").first)
        #expect(try row.decode("text", as: String.self) == "it's \"quoted\"\n; DROP TABLE x")
        #expect(try row.decode("big", as: Int64.self) == Int64.max)
        #expect(try row.decode("small", as: Int32.self) == Int32.min)
        #expect(try row.decode("flag", as: Bool.self) == true)
        #expect(try row.decode("ratio", as: Double.self) == 0.1)
        #expect(try row.decode("at", as: Date.self) == when)
        #expect(try row.decode("id", as: UUID.self) == id)
        #expect(try row.decodeJSON("payload", as: Payload.self) == payload)
        #expect(try row.decode("absent", as: String?.self) == nil)
        #expect(try row.decode("list_count", as: Int.self) == 3)
        #expect(try row.decode("list", as: String.self) == #"{x,"y\"z","back\\slash"}"#)
        #expect(try row.decodeJSONIfPresent("absent", as: Payload.self) == nil)
    }

    @Test func decodesTimestampsInOtherTimeZones() async throws {
        let connection = try await TestDatabase.create().connect()
        try connection.executeScript("SET TimeZone = 'Asia/Kolkata'", name: "set_tz")
        let row = try #require(try connection.query(
            "SELECT '2026-11-29 12:00:00.5+00'::timestamptz AS at", name: "tz").first)
        #expect(try row.decode("at", as: Date.self) == Date(timeIntervalSince1970: 1_795_953_600.5))
    }

    /// Dates beyond what the text form holds are clamped to its ends (year 9999, year 1) instead of trapping, and
    /// read back.
    @Test func datesOutsideFourDigitYearsAreClampedNotTrapped() async throws {
        let connection = try await TestDatabase.create().connect()
        let row = try #require(try connection.query(
            "SELECT $1::timestamptz AS late, $2::timestamptz AS early",
            [Date(timeIntervalSince1970: 1e18), Date(timeIntervalSince1970: -1e18)], name: "clamped").first)
        #expect(try row.decode("late", as: Date.self) == Date(timeIntervalSince1970: 253_402_300_799))
        #expect(try row.decode("early", as: Date.self) == Date(timeIntervalSince1970: -62_135_596_800))
    }

    @Test func decodingErrorNamesTheColumnAndType() async throws {
        let connection = try await TestDatabase.create().connect()
        let row = try #require(try connection.query("SELECT 'abc'::text AS amount, NULL::int AS missing", name: "bad_types").first)
        let error = try #require(throws: PostgresError.self) { try row.decode("amount", as: Int.self) }
        #expect(error.code == .decoding)
        #expect(error.column == "amount")
        #expect(error.expectedType == "Int")
        #expect(error.statement == "bad_types")
        #expect(error.description.contains("column 'amount'"))
        let null = try #require(throws: PostgresError.self) { try row.decode("missing", as: Int.self) }
        #expect(null.description.contains("column 'missing' is NULL"))
        let unknown = try #require(throws: PostgresError.self) { try row.decode("nope", as: Int.self) }
        #expect(unknown.description.contains("column 'nope' is not in the result"))
    }

    @Test func jsonDecodingErrorNamesTheColumnAndTheKey() async throws {
        let connection = try await TestDatabase.create().connect()
        let row = try #require(try connection.query(#"SELECT '{"name": "x"}'::jsonb AS payload"#, name: "bad_json").first)
        let error = try #require(throws: PostgresError.self) { try row.decodeJSON("payload", as: Payload.self) }
        #expect(error.column == "payload")
        #expect(error.description.contains("missing key 'count'"))
    }
}

@Suite("UUID text form")
struct UUIDTextTests {
    @Test func writesTheLowerCaseCanonicalFormAndReadsItBack() {
        for _ in 0..<200 {
            let id = UUID()
            #expect(id.postgresText == id.uuidString.lowercased())
            #expect(UUID.decode(postgresText: id.uuidString.lowercased()) == id)
            #expect(UUID.decode(postgresText: id.uuidString) == id, "upper case too")
        }
        let fixed = UUID(uuidString: "00010203-0405-0607-0809-0A0B0C0D0EFF")!
        #expect(fixed.postgresText == "00010203-0405-0607-0809-0a0b0c0d0eff")
    }

    @Test func rejectsWhatIsNotAUUID() {
        for text in ["", "not-a-uuid", "00010203-0405-0607-0809-0a0b0c0d0eg0", "000102030-405-0607-0809-0a0b0c0d0e0f",
                     "00010203-0405-0607-0809-0a0b0c0d0e0", "00010203-0405-0607-0809-0a0b0c0d0e0f0"] {
            #expect(UUID.decode(postgresText: text) == nil, "\(text)")
        }
    }
}
