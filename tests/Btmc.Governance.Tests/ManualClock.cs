namespace Btmc.Governance.Tests;

/// <summary>A clock that stands still until a test moves it (timers still run in real time).</summary>
internal sealed class ManualClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}
