"""One-letter and three-letter amino-acid codes, shared by the tools that read or change a protein's sequence
(mutants builds and names substitutions; structure reads a chain's sequence for the ESM models)."""

THREE = {
    "A": "ALA", "C": "CYS", "D": "ASP", "E": "GLU", "F": "PHE", "G": "GLY", "H": "HIS", "I": "ILE", "K": "LYS",
    "L": "LEU", "M": "MET", "N": "ASN", "P": "PRO", "Q": "GLN", "R": "ARG", "S": "SER", "T": "THR", "V": "VAL",
    "W": "TRP", "Y": "TYR",
}  # fmt: skip
# Amber's names for histidine's protonation states and a disulfide-bonded cysteine read as the residue they are.
ONE = {three: one for one, three in THREE.items()} | {"HID": "H", "HIE": "H", "HIP": "H", "CYX": "C"}
