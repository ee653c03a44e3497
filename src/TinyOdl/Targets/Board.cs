using System.Globalization;
using System.Text.Json;
using TinyOdl.Simulation.Timing;

namespace TinyOdl.Targets;

/// <summary>
/// A board description (boards/NAME/board.json): ISA and ABI for the compilers, memory for the arena check,
/// and how QEMU emulates it. Boards are data; adding one needs no code.
/// </summary>
public sealed record Board(
    string Name,
    string Description,
    string March,
    string Abi,
    IReadOnlyList<string> Extensions,
    string PicolibcMultilib,
    long ClockHz,
    ulong RamOrigin,
    long RamBytes,
    string QemuBinary,
    string QemuMachine,
    string QemuCpu,
    IReadOnlyList<string> QemuCpuOptions,
    IReadOnlyList<string> QemuExtraArgs,
    string Directory,
    string LinkerScript,
    string Startup,
    int Vlen,
    IReadOnlyList<int> VlenOptions)
{
    /// <summary>The timing model of the board's core (board.json <c>cycle_model</c>), or null when the board states none.</summary>
    public CycleModelParameters? CycleModel { get; init; }

    /// <summary>Peak multiply-accumulates per cycle for fp32 and fp16 (board.json <c>peak_macs_per_cycle</c>), or null.</summary>
    public PeakMacs? PeakMacsPerCycle { get; init; }

    /// <summary>Whether the board's ISA includes an extension ("zfh", "v", ...).</summary>
    public bool Has(string extension) => Extensions.Contains(extension.ToLowerInvariant());

    public bool HasVector => Vlen > 0;

    /// <summary>The same board with another vector length from its vlen_options.</summary>
    public Board WithVlen(int vlen)
    {
        if (!HasVector) throw TinyOdlException.At("--vlen", $"board '{Name}' has no vector unit");
        if (!VlenOptions.Contains(vlen))
            throw TinyOdlException.At("--vlen", $"board '{Name}' supports VLEN {string.Join(" or ", VlenOptions)}, not {vlen}");
        return this with { Vlen = vlen };
    }

    public static IReadOnlyList<string> Available() =>
        System.IO.Directory.Exists(ProductFiles.Boards)
            ? System.IO.Directory.GetDirectories(ProductFiles.Boards).Where(d => File.Exists(Path.Combine(d, "board.json")))
                .Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray()
            : [];

    public static Board Load(string name)
    {
        var dir = Path.Combine(ProductFiles.Boards, name);
        var file = Path.Combine(dir, "board.json");
        if (name.Contains('/') || name.Contains('\\') || !File.Exists(file))
            throw TinyOdlException.At($"--board {name}", $"unknown board; available: {string.Join(", ", Available())}");
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(file));
            var r = doc.RootElement;
            var ram = r.GetProperty("memory").GetProperty("ram");
            var qemu = r.GetProperty("qemu");
            var declared = r.GetProperty("name").GetString();
            int vlen = 0;
            int[] vlenOptions = [];
            if (r.TryGetProperty("vector", out var vec))
            {
                vlen = vec.GetProperty("vlen").GetInt32();
                vlenOptions = vec.TryGetProperty("vlen_options", out var vo) ? vo.EnumerateArray().Select(e => e.GetInt32()).ToArray() : [vlen];
            }
            if (declared != name)
                throw TinyOdlException.At(file, $"\"name\" is '{declared}' but the folder is '{name}'; they must agree");
            if (!r.TryGetProperty("clock_hz", out var clock) || clock.ValueKind != JsonValueKind.Number || !clock.TryGetInt64(out long hz) || hz <= 0)
                throw TinyOdlException.At($"{file}: clock_hz", "must be the core clock in Hz, a positive whole number");
            return new Board(
                name,
                r.GetProperty("description").GetString()!,
                r.GetProperty("march").GetString()!,
                r.GetProperty("abi").GetString()!,
                r.GetProperty("extensions").EnumerateArray().Select(e => e.GetString()!).ToArray(),
                r.GetProperty("picolibc_multilib").GetString()!,
                r.GetProperty("clock_hz").GetInt64(),
                ulong.Parse(ram.GetProperty("origin").GetString()!.Replace("0x", ""), NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                ram.GetProperty("length").GetInt64(),
                qemu.GetProperty("binary").GetString()!,
                qemu.GetProperty("machine").GetString()!,
                qemu.GetProperty("cpu").GetString()!,
                qemu.TryGetProperty("cpu_options", out var o) ? o.EnumerateArray().Select(e => e.GetString()!).ToArray() : [],
                qemu.TryGetProperty("extra", out var x) ? x.EnumerateArray().Select(e => e.GetString()!).ToArray() : [],
                dir,
                BoardFile(dir, r.GetProperty("linker_script").GetString()!, file),
                BoardFile(dir, r.GetProperty("startup").GetString()!, file),
                vlen,
                vlenOptions)
            {
                CycleModel = r.TryGetProperty("cycle_model", out var cm) ? CycleModelParameters.Parse(cm, $"{file}: cycle_model") : null,
                PeakMacsPerCycle = r.TryGetProperty("peak_macs_per_cycle", out var pk) ? PeakMacs.Parse(pk, $"{file}: peak_macs_per_cycle") : null,
            };
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw TinyOdlException.At(file, $"invalid board description ({e.Message})");
        }
    }

    /// <summary>The board an output folder was compiled for (its tinyodl.json: "board" and "vlen").</summary>
    public static Board OfOutputFolder(string dir)
    {
        var manifest = Path.Combine(dir, "tinyodl.json");
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(manifest));
            var r = doc.RootElement;
            var board = Load(r.GetProperty("board").GetString()!);
            int vlen = r.TryGetProperty("vlen", out var v) ? v.GetInt32() : 0;
            return vlen > 0 && vlen != board.Vlen ? board.WithVlen(vlen) : board;
        }
        catch (Exception e) when (e is IOException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw TinyOdlException.At(manifest, $"cannot tell the output folder's board ({e.Message})");
        }
    }

    /// <summary>QEMU's -cpu value, e.g. "rv32,d=false"; "{vlen}" in an option is the board's vector length.</summary>
    public string QemuCpuArgument =>
        string.Join(",", new[] { QemuCpu }.Concat(QemuCpuOptions.Select(o => o.Replace("{vlen}", Vlen.ToString(CultureInfo.InvariantCulture)))));

    /// <summary>A file the board names, relative to its folder (boards may share a linker script or startup).</summary>
    private static string BoardFile(string dir, string relative, string boardJson)
    {
        var path = Path.GetFullPath(Path.Combine(dir, relative));
        return File.Exists(path) ? path : throw TinyOdlException.At(boardJson, $"'{relative}' not found");
    }
}
