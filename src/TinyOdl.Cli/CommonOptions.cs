using System.CommandLine;
using TinyOdl.Frontends;
using TinyOdl.Targets;

namespace TinyOdl.Cli;

/// <summary>Options and loaders shared by several commands.</summary>
internal static class CommonOptions
{
    public static Argument<string> ModelArgument() => new("model") { Description = "Model file (.json, see docs/MODEL_FORMAT.md)" };

    public static Option<string> BoardOption() => new("--board", "-b")
    {
        Description = "Target board (a folder under boards/)",
        DefaultValueFactory = _ => "qemu-virt-rv32",
    };

    public static Option<string> BackendOption()
    {
        var o = new Option<string>("--backend") { Description = "Code generator: c or llvm", DefaultValueFactory = _ => "c" };
        o.AcceptOnlyFromAmong("c", "llvm");
        return o;
    }

    public static Backend ParseBackend(string s) => s == "llvm" ? Backend.Llvm : Backend.C;

    public static ModelDocument LoadModel(string path)
    {
        var ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext != ".json")
            throw TinyOdlException.At(path, $"unsupported model format '{ext}'; expected a .json model file");
        return JsonModelReader.Load(path);
    }
}
