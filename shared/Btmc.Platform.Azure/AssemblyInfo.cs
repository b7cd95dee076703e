using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Btmc.Platform.Azure.Tests")]
