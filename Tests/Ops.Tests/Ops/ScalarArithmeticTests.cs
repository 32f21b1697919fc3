using MlRounding.Ops;
using static TorchSharp.torch;

namespace MlRounding.Tests.Ops;

/// <summary>
/// <see cref="ScalarArithmetic"/> (tensor arithmetic with held scalars) computes bit for bit what TorchSharp's
/// operators compute; ScalarLifetimeTests in the trainers' tests checks that no other arithmetic is left.
/// </summary>
[TestClass]
public sealed class ScalarArithmeticTests
{
    [TestMethod]
    public void HeldArithmetic_IsBitIdenticalToTorchSharpsOperators()
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(new[] { -2.5f, -0.5f, 0f, -0f, 0.1f, 0.5f, 1.5f, 3.4e38f, float.NaN, float.PositiveInfinity, 1e-40f });
        Tensor y = tensor(new[] { 1f, 2f, -0f, 0f, 0.2f, -0.5f, 2.5f, 3.4e38f, 1f, float.NegativeInfinity, 1e-40f });
        var pairs = new (Tensor Held, Tensor Operator, string What)[]
        {
            (x.Plus(y), x + y, "x + y"),
            (x.Plus(0.1), x + 0.1, "x + 0.1"),
            (x.SubtractedFrom(0.1), 0.1 - x, "0.1 - x"),
            (x.Minus(0.1), x - 0.1, "x - 0.1"),
            (x.Times(0.1), x * 0.1, "x * 0.1"),
            (x.Over(0.1), x / 0.1, "x / 0.1"),
            (x.ClampTo(-1, 1), x.clamp(-1, 1), "clamp"),
            (x.ClampMin(1e-8), x.clamp_min(1e-8), "clamp_min"),
            (x.AtLeast(0.5), x.ge(0.5), "x >= 0.5"),
            (x.AtMost(0.5), x.le(0.5), "x <= 0.5"),
            (x.Below(0.5), x.lt(0.5), "x < 0.5"),
            (x.Above(0.5), x.gt(0.5), "x > 0.5"),
            (x.EqualTo(-0.5), x.eq(-0.5), "x == -0.5"),
            (x.Squared(), x.square(), "square"),
        };
        foreach (var (held, op, what) in pairs)
        {
            Assert.AreEqual(op.dtype, held.dtype, what);
            CollectionAssert.AreEqual(op.to_type(ScalarType.Float64).data<double>().ToArray().Select(BitConverter.DoubleToInt64Bits).ToArray(), held.to_type(ScalarType.Float64).data<double>().ToArray().Select(BitConverter.DoubleToInt64Bits).ToArray(), what);
        }
    }

}
