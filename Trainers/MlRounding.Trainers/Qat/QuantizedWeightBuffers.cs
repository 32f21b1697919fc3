using static TorchSharp.torch;

namespace MlRounding.Trainers;

/// <summary>
/// Two weight-sized tensors per layer of a network (the quantized weights, and the gradient with respect to them), written
/// by the training passes of <see cref="QatMlpFunction"/> instead of new weight-sized tensors per layer and step. Fresh weight-sized tensors freed at the end of each step
/// let glibc trim its heap and fault the pages in again on the next step, which cost more than the quantizer's
/// arithmetic (docs/benchmarks.md). A pass whose backward is still to come holds the buffers: a forward pass that finds
/// them held (a second pass before the first one's backward, or a graph dropped without one) writes new tensors
/// instead, so a backward always reads its own pass's weights. An exception cannot be thrown from a backward (it would
/// end the process inside LibTorch's autograd engine), which is why this is decided in the forward.
/// </summary>
internal sealed class QuantizedWeightBuffers : IDisposable
{
    private readonly Tensor?[] _buffers; // per layer: the quantized weights, then the gradient with respect to them
    private bool _held;

    /// <summary>Initializes a new instance of the <see cref="QuantizedWeightBuffers"/> class.</summary>
    /// <param name="layers">The network's number of layers.</param>
    public QuantizedWeightBuffers(int layers) => _buffers = new Tensor?[2 * layers];

    /// <summary>Starts a forward pass: true when it may write the buffers (none is held), which it then holds until <see cref="Release"/>.</summary>
    public bool TryHold()
    {
        if (_held)
        {
            return false;
        }

        _held = true;
        return true;
    }

    /// <summary>Ends the hold: the pass's backward has run, or its output needs no gradient, so none will.</summary>
    public void Release() => _held = false;

    /// <summary>Layer <paramref name="layer"/>'s quantized weights, shaped like <paramref name="weight"/>.</summary>
    public Tensor Weights(int layer, Tensor weight) => Buffer(2 * layer, weight);

    /// <summary>
    /// Layer <paramref name="layer"/>'s gradient with respect to its quantized weights, shaped like <paramref name="weight"/>,
    /// which the backward then turns into the weight's own gradient in place and hands to autograd. Autograd adds it to
    /// the weight's <c>grad</c> before that backward call returns, and since this object keeps a reference, it copies it
    /// rather than adopting it as <c>grad</c> when <c>grad</c> is undefined (the tests check both).
    /// </summary>
    public Tensor Gradient(int layer, Tensor weight) => Buffer((2 * layer) + 1, weight);

    // The buffer at index, created on first use (outside every dispose scope) and again when the weight's shape changes.
    private Tensor Buffer(int index, Tensor weight)
    {
        Tensor? buffer = _buffers[index];
        if (buffer is null || !buffer.shape.SequenceEqual(weight.shape))
        {
            buffer?.Dispose();
            buffer = empty_like(weight, requires_grad: false).DetachFromDisposeScope();
            _buffers[index] = buffer;
        }

        return buffer;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        for (int i = 0; i < _buffers.Length; i++)
        {
            _buffers[i]?.Dispose();
            _buffers[i] = null;
        }
    }
}
