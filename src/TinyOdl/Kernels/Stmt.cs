namespace TinyOdl.Kernels;

/// <summary>A statement of the kernel IR. Statements run in the order written; loops run their index upward.</summary>
public abstract record Stmt;

/// <summary>Introduces a local with an initial value.</summary>
public sealed record Declare(Local Local, Expr Init) : Stmt;

public sealed record Assign(Local Local, Expr Value) : Stmt;

public sealed record Store(BufferParam Buffer, Expr Index, Expr Value) : Stmt;

/// <summary>for (Index = From; Index &lt; To; Index++) Body. The loop owns its index local.</summary>
public sealed record For(Local Index, Expr From, Expr To, IReadOnlyList<Stmt> Body) : Stmt;

/// <summary>Ends a scalar function with its result.</summary>
public sealed record Return(Expr Value) : Stmt;
