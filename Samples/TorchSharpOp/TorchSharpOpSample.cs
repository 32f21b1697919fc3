using System.Globalization;
using MlRounding.Ops;
using TorchSharp;
using static TorchSharp.torch;

namespace MlRounding.Samples;

/// <summary>
/// Sample: an MlRounding op inside a TorchSharp model. The diabetes disease-progression score is a whole number; a
/// network whose last layer rounds to whole numbers is trained three times, with a plain <c>torch.round</c> and with
/// two MlRounding rounding modules, on the same data, seed and optimizer.
/// </summary>
public static class TorchSharpOpSample
{
    /// <summary>What one training run ends with.</summary>
    /// <param name="Name">The rounding layer.</param>
    /// <param name="InitialLoss">Mean squared error on the training rows before training.</param>
    /// <param name="FinalLoss">The same after training.</param>
    /// <param name="TestRmse">Root mean squared error on the held-out rows.</param>
    /// <param name="AllWhole">Whether every held-out prediction is a whole number.</param>
    public sealed record Result(string Name, double InitialLoss, double FinalLoss, double TestRmse, bool AllWhole);

    /// <summary>Trains the three variants and returns their results.</summary>
    /// <param name="steps">Full-batch Adam steps.</param>
    /// <returns>One result per rounding layer.</returns>
    public static IReadOnlyList<Result> Run(int steps = 400)
    {
        var (xTrain, yTrain, xTest, yTest) = LoadDiabetes();
        try
        {
            float mean = yTrain.mean().item<float>();
            var variants = new (string Name, Func<nn.Module<Tensor, Tensor>> Round)[]
            {
                ("torch.round (no MlRounding)", () => new PlainTorchRound()),
                ("Rounding.Modules.StraightThrough()", () => Rounding.Modules.StraightThrough()),
                ("Rounding.Modules.RoundToStep(1, SoftRound(4))", () => Rounding.Modules.RoundToStep(1, gradient: RoundingGradient.SoftRound(4))),
            };
            return variants.Select(v => Train(v.Name, v.Round(), mean, xTrain, yTrain, xTest, yTest, steps)).ToList();
        }
        finally
        {
            foreach (Tensor t in new[] { xTrain, yTrain, xTest, yTest })
            {
                t.Dispose();
            }
        }
    }

    private static Result Train(string name, nn.Module<Tensor, Tensor> round, float mean, Tensor xTrain, Tensor yTrain, Tensor xTest, Tensor yTest, int steps)
    {
        manual_seed(1);
        using var model = new WholeNumberRegressor((int)xTrain.shape[1], 16, round, mean);
        using var optimizer = optim.Adam(model.parameters(), lr: 0.05);
        double initial = 0, final = 0;
        for (int step = 0; step < steps; step++)
        {
            // Every temporary of a step (predictions, loss, gradients' graph) is freed at the end of the step.
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            Tensor loss = nn.functional.mse_loss(model.forward(xTrain), yTrain);
            loss.backward();
            optimizer.step();
            final = loss.item<float>();
            initial = step == 0 ? final : initial;
        }

        using var evaluation = NewDisposeScope();
        using var noGrad = no_grad();
        model.eval();
        Tensor predicted = model.forward(xTest);
        double rmse = Math.Sqrt(nn.functional.mse_loss(predicted, yTest).item<float>());
        bool whole = predicted.eq(predicted.round()).all().item<bool>();
        return new Result(name, initial, final, rmse, whole);
    }

    /// <summary>The bundled diabetes rows, features standardized on the training rows; every 5th row is held out.</summary>
    private static (Tensor XTrain, Tensor YTrain, Tensor XTest, Tensor YTest) LoadDiabetes()
    {
        var rows = File.ReadLines(Path.Combine(AppContext.BaseDirectory, "data", "diabetes.csv")).Skip(1)
            .Select(l => l.Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToList();
        int features = rows[0].Length - 1;
        float[][] train = rows.Where((_, i) => i % 5 != 0).ToArray();
        float[][] test = rows.Where((_, i) => i % 5 == 0).ToArray();
        using var scope = NewDisposeScope();
        Tensor X(float[][] r) => tensor(r.SelectMany(v => v.Take(features)).ToArray(), new long[] { r.Length, features });
        Tensor Y(float[][] r) => tensor(r.Select(v => v[features]).ToArray());
        Tensor xTrain = X(train), xTest = X(test);
        Tensor mu = xTrain.mean(new long[] { 0 }), sigma = xTrain.std(0);
        return ((xTrain - mu) / sigma, Y(train), (xTest - mu) / sigma, Y(test)).MoveToOuterDisposeScope();
    }

    private static (Tensor, Tensor, Tensor, Tensor) MoveToOuterDisposeScope(this (Tensor A, Tensor B, Tensor C, Tensor D) t) =>
        (t.A.MoveToOuterDisposeScope(), t.B.MoveToOuterDisposeScope(), t.C.MoveToOuterDisposeScope(), t.D.MoveToOuterDisposeScope());
}
