namespace Btmc.Compute.Jobs;

/// <summary>A job request refused: the member that is wrong and why.</summary>
/// <param name="field">The request member (<c>bits</c>, <c>files[3]</c>, <c>contributors</c>, …).</param>
/// <param name="message">What is wrong, for the submitter.</param>
/// <param name="conflict">True when the request is well formed but the backend's state refuses it (too few registered
/// contributors, an unregistered one): 409 rather than 400.</param>
public sealed class JobRejected(string field, string message, bool conflict = false) : Exception(message)
{
    public string Field { get; } = field;

    public bool Conflict { get; } = conflict;
}
