"""The pages, one module per audience: families, teachers, school and district staff."""
