using Btmc.Ledger;

namespace Btmc.Platform.Keys.KeyVault;

/// <summary>The answer to <see cref="CryptographyClient.VerifyAsync"/>: whether the signature is valid for the digest.</summary>
public sealed record VerifyResult(string KeyId, bool IsValid, SignatureAlgorithm Algorithm);
