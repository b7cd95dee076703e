namespace Btmc.Platform.Keys.KeyVault;

/// <summary>An operation a key permits (<c>key_ops</c>); any string the service sends is kept.</summary>
public readonly record struct KeyOperation(string Value)
{
    /// <summary>Sign a digest.</summary>
    public static KeyOperation Sign { get; } = new("sign");

    /// <summary>Verify a signature.</summary>
    public static KeyOperation Verify { get; } = new("verify");

    public static implicit operator KeyOperation(string value) => new(value);

    public override string ToString() => Value;
}
