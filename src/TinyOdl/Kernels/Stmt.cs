namespace TinyOdl.Kernels;

/// <summary>A statement of the kernel IR. Statements run in the order written; loops run their index upward.</summary>
public abstract record Stmt;

/// <summary>Introduces a local with an initial value.</summary>
public sealed record Declare(Local Local, Expr Init) : Stmt;

public sealed record Assign(Local Local, Expr Value) : Stmt;

public sealed record Store(BufferParam Buffer, Expr Index, Expr Value) : Stmt;

/// <summary>
/// for (Index = From; Index &lt; To; Index++) Body. The loop owns its index local.
/// A <paramref name="Lanes"/> loop promises that its iterations are independent (no iteration reads what another
/// writes), so a backend may run them as SIMD lanes; each lane still performs exactly the scalar operation
/// sequence of its iteration, which is why vectorizing never changes bits. The evaluator runs it as a plain loop.
/// </summary>
public sealed record For(Local Index, Expr From, Expr To, IReadOnlyList<Stmt> Body, bool Lanes = false) : Stmt;

/// <summary>Ends a scalar function with its result.</summary>
public sealed record Return(Expr Value) : Stmt;
