import Foundation
import Histogram

/// One measured quantity: a value per round, shown as median [min–max].
public struct Figure: Sendable, Codable, Equatable {
    /// Flat JSON key, e.g. `steps_per_s`.
    public var key: String
    public var label: String
    public var unit: String
    public var values: [Double]
    /// What it is compared with (target or ceiling), shown in the table's last column.
    public var note: String?

    public init(key: String, label: String, unit: String, values: [Double], note: String? = nil) {
        self.key = key
        self.label = label
        self.unit = unit
        self.values = values
        self.note = note
    }

    public var median: Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    public var minimum: Double { values.min() ?? .nan }
    public var maximum: Double { values.max() ?? .nan }
}

/// Latency distribution of one round, in microseconds, recorded with HdrHistogram (3 significant digits).
struct LatencySample {
    var histogram = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)

    mutating func record(microseconds: Int64) {
        _ = histogram.record(UInt64(max(0, microseconds)))
    }

    var count: UInt64 { histogram.totalCount }
    func percentileMilliseconds(_ percentile: Double) -> Double { Double(histogram.valueAtPercentile(percentile)) / 1000 }
    var maxMilliseconds: Double { Double(histogram.max) / 1000 }
}

/// The machine and database server the figures were measured on.
public struct MachineInfo: Sendable, Codable, Equatable {
    public var cpuModel: String
    public var cores: Int
    public var memoryBytes: UInt64
    public var kernel: String
    public var postgresVersion: String
    public var settings: [String: String]
    public var buildConfiguration: String

    enum CodingKeys: String, CodingKey {
        case cpuModel = "cpu_model", cores, memoryBytes = "memory_bytes", kernel
        case postgresVersion = "postgresql_version", settings, buildConfiguration = "build"
    }
}

/// Everything one `unwind bench` run measured.
public struct BenchReport: Sendable {
    public var machine: MachineInfo
    public var parameters: [String: Double]
    public var figures: [Figure]
    /// Per-measurement remarks (what was skipped and why, what a figure includes).
    public var notes: [String]
    public var counts: [String: Int]
    /// Measurements that could not be completed, with the reason.
    public var failures: [String]
    public var startedAt: Date
    public var finishedAt: Date

    public func figure(_ key: String) -> Figure? { figures.first { $0.key == key } }

    /// The table printed to stdout.
    public var table: String {
        var lines: [String] = []
        lines.append("unwind bench — \(machine.cpuModel), \(machine.cores) cores, \(Self.gib(machine.memoryBytes)) GiB; "
            + "PostgreSQL \(machine.postgresVersion); fsync=\(machine.settings["fsync"] ?? "?"), "
            + "synchronous_commit=\(machine.settings["synchronous_commit"] ?? "?"); build \(machine.buildConfiguration)")
        let sizes = ["workflows", "steps", "workers", "concurrency", "teardown_concurrency", "rounds"].compactMap { key in
            parameters[key].map { "\(key)=\(Int($0))" }
        }
        lines.append("parameters: " + sizes.joined(separator: " ") + "; each figure: median [min–max] over the rounds")
        let rows = figures.map { figure -> [String] in
            [figure.label, Self.format(figure.median), "[\(Self.format(figure.minimum))–\(Self.format(figure.maximum))]",
             figure.unit, figure.note ?? ""]
        }
        let header = ["figure", "median", "[min–max]", "unit", "note"]
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        func render(_ row: [String]) -> String {
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        lines.append(render(header))
        lines.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
        lines.append(contentsOf: rows.map(render))
        if !notes.isEmpty {
            lines.append("")
            lines.append(contentsOf: notes.map { "note: " + $0 })
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Flat summary keys (medians) first, then the details.
    public var json: Data {
        var root: [String: Any] = [:]
        for figure in figures where figure.median.isFinite {
            root[figure.key] = Self.rounded(figure.median)
        }
        root["figures"] = figures.map { figure -> [String: Any] in
            var entry: [String: Any] = [
                "key": figure.key, "label": figure.label, "unit": figure.unit,
                "values": figure.values.map(Self.rounded),
            ]
            if figure.median.isFinite {
                entry["median"] = Self.rounded(figure.median)
                entry["min"] = Self.rounded(figure.minimum)
                entry["max"] = Self.rounded(figure.maximum)
            }
            if let note = figure.note { entry["note"] = note }
            return entry
        }
        root["machine"] = [
            "cpu_model": machine.cpuModel, "cores": machine.cores, "memory_bytes": machine.memoryBytes,
            "kernel": machine.kernel, "postgresql_version": machine.postgresVersion, "settings": machine.settings,
            "build": machine.buildConfiguration,
        ] as [String: Any]
        root["parameters"] = parameters
        root["notes"] = notes
        root["counts"] = counts
        root["failures"] = failures
        let formatter = ISO8601DateFormatter()
        root["started_at"] = formatter.string(from: startedAt)
        root["finished_at"] = formatter.string(from: finishedAt)
        // swiftlint-free: JSONSerialization accepts only property-list types, which is all this holds.
        return (try? JSONSerialization.data(withJSONObject: root, options: [.prettyPrinted, .sortedKeys])) ?? Data("{}".utf8)
    }

    static func rounded(_ value: Double) -> Double {
        guard value.isFinite else { return 0 }
        let magnitude = abs(value)
        let scale: Double = magnitude >= 100 ? 10 : magnitude >= 1 ? 1000 : 100_000
        return (value * scale).rounded() / scale
    }

    static func format(_ value: Double) -> String {
        guard value.isFinite else { return "—" }
        let magnitude = abs(value)
        if magnitude >= 1000 { return String(format: "%.0f", value) }
        if magnitude >= 100 { return String(format: "%.1f", value) }
        if magnitude >= 1 { return String(format: "%.2f", value) }
        return String(format: "%.3f", value)
    }

    static func gib(_ bytes: UInt64) -> String { String(format: "%.1f", Double(bytes) / 1_073_741_824) }
}
