using TinyOdl.Simulation;
using TinyOdl.Targets;
using TinyOdl.Tests.CliTests;
using TinyOdl.Tests.Support;

namespace TinyOdl.Tests.Simulation;

using Cli = TinyOdl.Tests.Support.Cli;

/// <summary>Two programs for the CLI: one prints and exits with status 7 through semihosting, one loops forever.</summary>
public sealed class CliPrograms : IDisposable
{
    private static readonly (string, string)[] Exit = [("hello", AsmSuite.PrintAndExit("hello\\n", 7))];

    private static readonly (string, string)[] Loop = [("spin", "1: j 1b")];

    public AsmSuite Hello { get; } = new(Exit, "rv32imac", entry: "hello");
    public AsmSuite Spin { get; } = new(Loop, "rv32imac", entry: "spin");

    public void Dispose()
    {
        Hello.Dispose();
        Spin.Dispose();
    }
}

/// <summary>
/// ELF loading rejects what the simulator cannot run with one clear message, and `tinyodl sim` behaves like a
/// program runner: the program's stdout and exit status; one line and exit 2 for bad input; 124 and a report for
/// a program that never exits.
/// </summary>
public sealed class ElfAndCliTests(CliPrograms programs) : IClassFixture<CliPrograms>
{
    /// <summary>A minimal ELF header: class (1 = 32-bit, 2 = 64-bit), machine, type (2 = executable).</summary>
    private static byte[] ElfHeader(byte elfClass, ushort machine, ushort type = 2)
    {
        var b = new byte[elfClass == 1 ? 52 : 64];
        b[0] = 0x7F; b[1] = (byte)'E'; b[2] = (byte)'L'; b[3] = (byte)'F';
        b[4] = elfClass; b[5] = 1; b[6] = 1;
        BitConverter.TryWriteBytes(b.AsSpan(16), type);
        BitConverter.TryWriteBytes(b.AsSpan(18), machine);
        BitConverter.TryWriteBytes(b.AsSpan(20), 1u);
        if (elfClass == 1)
        {
            BitConverter.TryWriteBytes(b.AsSpan(40), (ushort)52);
            BitConverter.TryWriteBytes(b.AsSpan(42), (ushort)32);
            BitConverter.TryWriteBytes(b.AsSpan(46), (ushort)40);
        }
        else
        {
            BitConverter.TryWriteBytes(b.AsSpan(52), (ushort)64);
            BitConverter.TryWriteBytes(b.AsSpan(54), (ushort)56);
            BitConverter.TryWriteBytes(b.AsSpan(58), (ushort)64);
        }
        return b;
    }

    [Theory]
    [InlineData("missing", "file not found")]
    [InlineData("text", "not an ELF file")]
    [InlineData("elf64", "64-bit ELF file")]
    [InlineData("x86", "not RISC-V")]
    [InlineData("object", "ELF file of type")]
    public void Unrunnable_files_are_rejected_with_a_clear_message(string kind, string fragment)
    {
        using var tmp = new TempDir();
        var path = tmp.File(kind + ".elf");
        switch (kind)
        {
            case "text": File.WriteAllText(path, "not an executable\n"); break;
            case "elf64": File.WriteAllBytes(path, ElfHeader(2, 243)); break;
            case "x86": File.WriteAllBytes(path, ElfHeader(1, 3)); break;
            case "object": File.WriteAllBytes(path, ElfHeader(1, 243, type: 1)); break;
        }
        var e = Assert.Throws<TinyOdlException>(() => ElfProgram.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(fragment, e.Message);
    }

    [Fact]
    public void A_segment_outside_the_boards_ram_is_rejected()
    {
        var config = MachineConfig.FromBoard(Board.Load("qemu-virt-rv32")) with { RamOrigin = 0x90000000 };
        var machine = new Machine(config, Stream.Null, Stream.Null);
        var e = Assert.Throws<TinyOdlException>(() => machine.Load(programs.Hello.Program));
        Assert.Contains("lies outside RAM", e.Message);
    }

    [Fact]
    public void Sim_forwards_stdout_and_exits_with_the_programs_status()
    {
        var r = Cli.Run("sim", programs.Hello.Elf);
        Assert.Equal(7, r.ExitCode);
        Assert.Equal("hello\n", r.Stdout);
        Assert.Equal("", r.Stderr);
    }

    [Fact]
    public void Sim_stops_a_program_that_never_exits()
    {
        var r = Cli.Run("sim", programs.Spin.Elf, "--max-instructions", "5000", "--stats");
        Assert.Equal(124, r.ExitCode);
        Assert.Contains("instruction limit of 5,000 reached", r.Stderr);
        Assert.Contains("5,000 instructions retired", r.Stderr);
    }

    [Theory]
    [InlineData("missing", "file not found")]
    [InlineData("text", "not an ELF file")]
    [InlineData("x86", "not RISC-V")]
    public void Sim_bad_input_is_one_line_and_exit_2(string kind, string fragment)
    {
        using var tmp = new TempDir();
        var path = tmp.File(kind + ".elf");
        if (kind == "text") File.WriteAllText(path, "hello\n");
        if (kind == "x86") File.WriteAllBytes(path, ElfHeader(1, 3));
        CliExpect.UserError(Cli.Run("sim", path), path, fragment);
    }

    [Fact]
    public void Sim_rejects_a_vector_length_for_a_board_without_vectors()
    {
        CliExpect.UserError(Cli.Run("sim", programs.Hello.Elf, "--board", "qemu-virt-rv32", "--vlen", "256"), "--vlen", "no vector unit");
    }
}
