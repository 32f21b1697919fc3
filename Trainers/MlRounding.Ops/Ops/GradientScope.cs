using static TorchSharp.torch;

namespace MlRounding.Ops;

/// <summary>
/// Keeps the temporaries of a custom autograd function's forward or backward inside a dispose scope: temporaries that
/// are left to the finalizer hold native memory (measured: a backward that left its temporaries unscoped grew RSS by
/// ~180 KB per call on a 64×512 input). Use it in your own <c>SingleTensorFunction</c>s too.
/// </summary>
public static class GradientScope
{
    /// <summary>Runs <paramref name="body"/> in a new dispose scope and moves the returned gradients out of it.</summary>
    /// <param name="body">The backward computation.</param>
    /// <returns>The gradients (null entries allowed).</returns>
    public static List<Tensor> Run(Func<List<Tensor>> body)
    {
        using var scope = NewDisposeScope();
        List<Tensor> gradients = body();
        foreach (Tensor? g in gradients)
        {
            g?.MoveToOuterDisposeScope();
        }

        return gradients;
    }

    /// <summary>
    /// Saves tensors that <paramref name="ctx"/>'s backward needs and that were created inside <see cref="Run(Func{Tensor})"/>:
    /// they are moved out of its scope (to the caller's) first, so they outlive the forward call. Inputs of the function
    /// are not owned by the scope: save those with <c>ctx.save_for_backward</c> directly.
    /// </summary>
    /// <param name="ctx">The autograd context of the forward call.</param>
    /// <param name="created">Tensors created in the forward pass.</param>
    public static void SaveCreated(autograd.AutogradContext ctx, params Tensor[] created) => Save(ctx, created, created);

    /// <summary>
    /// Saves <paramref name="saved"/> for <paramref name="ctx"/>'s backward, in order: inputs of the function, tensors
    /// created inside <see cref="Run(Func{Tensor})"/> (listed again in <paramref name="created"/>, which are moved out of
    /// its scope first so that they outlive the forward call), and null entries, which the backward reads back as null.
    /// </summary>
    /// <param name="ctx">The autograd context of the forward call.</param>
    /// <param name="saved">What the backward reads back, in order.</param>
    /// <param name="created">Those of <paramref name="saved"/> that the forward pass created.</param>
    public static void Save(autograd.AutogradContext ctx, IReadOnlyList<Tensor?> saved, IEnumerable<Tensor> created)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        ArgumentNullException.ThrowIfNull(saved);
        ArgumentNullException.ThrowIfNull(created);
        foreach (Tensor t in created)
        {
            t.MoveToOuterDisposeScope();
        }

        ctx.save_for_backward(saved.ToList()!);
    }

    /// <summary>Runs <paramref name="body"/> in a new dispose scope and moves the returned tensor out of it.</summary>
    /// <param name="body">The forward computation.</param>
    /// <returns>The output.</returns>
    public static Tensor Run(Func<Tensor> body)
    {
        using var scope = NewDisposeScope();
        return body().MoveToOuterDisposeScope();
    }
}
