# cs285 package (hw3 of https://github.com/ykpercy/homework_fall2023): the files the cs285_hw3_*.py scripts share.
