namespace MlRounding.Trainers;

/// <summary>How the learning rate changes over training.</summary>
public enum LearningRateSchedule
{
    /// <summary>The same learning rate at every step.</summary>
    Constant,

    /// <summary>
    /// Cosine decay from <see cref="QatOptions.LearningRate"/> at the first step to 0 at the last step of
    /// <see cref="QatOptions.MaxEpoch"/> epochs (Loshchilov &amp; Hutter 2017, without restarts).
    /// </summary>
    Cosine,
}
