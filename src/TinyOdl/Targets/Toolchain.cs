namespace TinyOdl.Targets;

/// <summary>Which code generator output a build compiles: C source or LLVM IR.</summary>
public enum Backend { C, Llvm }

/// <summary>
/// One way of turning generated code into an ELF: the TOOLCHAIN and OPT variables of firmware/build.mk.
/// Every combination must produce the same bits; `tinyodl verify` builds all of them.
/// </summary>
public sealed record BuildCombo(string Toolchain, string Opt, Backend Backend)
{
    public string Name => Toolchain switch
    {
        "llvm" => $"LLVM IR, opt-19/llc-19 {Opt}",
        "gcc" => $"C, GCC 12 {Opt}",
        _ => $"C, clang-19 {Opt}",
    };

    /// <summary>The folder build.mk builds into.</summary>
    public string BuildDirectory => $"build/{Toolchain}{Opt}";

    public static IReadOnlyList<BuildCombo> All { get; } =
    [
        new("gcc", "-O0", Backend.C),
        new("gcc", "-O2", Backend.C),
        new("clang", "-O2", Backend.C),
        new("clang", "-O3", Backend.C),
        new("llvm", "-O2", Backend.Llvm),
    ];

    public static BuildCombo Default(Backend backend) => backend == Backend.Llvm ? All[4] : All[2];

    /// <summary>
    /// GCC 12 cannot compile _Float16 for RISC-V ("not supported on this target") and has no riscv_vector.h.
    /// Returns why not, or null when it can.
    /// </summary>
    public string? CannotBuild(Kernels.KernelProgram program) => Toolchain != "gcc" ? null
        : program.UsesHalf ? "GCC 12 has no _Float16 for RISC-V"
        : program.UsesLanes ? "GCC 12 has no RVV 1.0 intrinsics and rejects -march with zvfh"
        : null;
}
