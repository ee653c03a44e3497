using System.Text.Json.Nodes;
using TinyOdl.Tests.Support;

namespace TinyOdl.Tests.CliTests;

/// <summary>
/// A TINYODL_HOME with the repository's firmware/ and toolchain/ (flags.mk) and one board, boards/tiny-ram: a copy
/// of qemu-virt-rv32 with 16 KiB of RAM. Boards are data, so this needs no code.
/// </summary>
public sealed class TinyRamHome : IDisposable
{
    public const string BoardName = "tiny-ram";
    public const long RamBytes = 16384;

    private readonly TempDir _dir = new();

    public TinyRamHome()
    {
        Copy(Path.Combine(Repo.Root, "firmware"), Path.Combine(Home, "firmware"));
        Copy(Path.Combine(Repo.Root, "toolchain"), Path.Combine(Home, "toolchain"));
        var board = Path.Combine(Home, "boards", BoardName);
        Copy(Path.Combine(Repo.Root, "boards", "qemu-virt-rv32"), board);
        var json = Path.Combine(board, "board.json");
        var doc = JsonNode.Parse(File.ReadAllText(json))!.AsObject();
        doc["name"] = BoardName;
        doc["memory"]!["ram"]!["length"] = RamBytes;
        File.WriteAllText(json, doc.ToJsonString());
    }

    public string Home => _dir.Path;

    public IReadOnlyDictionary<string, string> Env => new Dictionary<string, string> { ["TINYODL_HOME"] = Home };

    private static void Copy(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(from)) File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
        foreach (var d in Directory.GetDirectories(from))
            if (Path.GetFileName(d) is not ("build" or "bin" or "obj")) Copy(d, Path.Combine(to, Path.GetFileName(d)));
    }

    public void Dispose() => _dir.Dispose();
}
