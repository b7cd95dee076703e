namespace Btmc.Functions;

/// <summary>
/// An identifier taken from the rest of a route (<c>/api/trace/{**epc}</c>, <c>/api/assets/{**epc}</c>): URL-encoded or
/// not, since a Digital Link URI has slashes of its own, and optionally followed by <c>/proof</c>.
/// </summary>
public static class IdentifierPath
{
    public static (string Id, bool Proof) Decode(string path)
    {
        var proof = path.EndsWith("/proof", StringComparison.Ordinal);
        var id = Uri.UnescapeDataString(proof ? path[..^"/proof".Length] : path);

        // A Digital Link URI loses one slash of "https://" in a path (proxies merge "//").
        if (id.StartsWith("https:/", StringComparison.Ordinal) && !id.StartsWith("https://", StringComparison.Ordinal))
        {
            id = "https://" + id["https:/".Length..];
        }

        return (id, proof);
    }
}
