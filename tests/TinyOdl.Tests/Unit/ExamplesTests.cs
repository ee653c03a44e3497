using TinyOdl.Frontends;
using TinyOdl.Targets;
using TinyOdl.Tests.Support;

namespace TinyOdl.Tests.Unit;

/// <summary>Every model in examples/ loads and compiles (on the Zfh board, which takes every precision; the ones that train are run elsewhere).</summary>
public sealed class ExamplesTests
{
    public static IEnumerable<object[]> Models() =>
        Directory.GetFiles(Repo.Examples, "*.json").Order(StringComparer.Ordinal).Select(f => new object[] { Path.GetFileName(f) });

    [Theory]
    [MemberData(nameof(Models))]
    public void Example_compiles(string file)
    {
        var doc = JsonModelReader.Load(Path.Combine(Repo.Examples, file));
        var compiled = Pipeline.Compile(doc.Model, Board.Load("qemu-virt-rv32-zfh"));
        Assert.NotEmpty(compiled.Program.TrainStep.Calls);
        Assert.True(compiled.Memory.ArenaBytes > 0);
    }
}
